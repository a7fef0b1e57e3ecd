// Package registry keeps the current model of every service and publishes each
// change to the xDS cache: it is the source.Sink at the end of the discovery
// path. Work per event is one service's translation; the cache then pushes only
// the resources whose bytes changed.
package registry

import (
	"cmp"
	"log/slog"
	"slices"
	"sort"
	"sync"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
)

// Registry is safe for concurrent use.
type Registry struct {
	cache *xdscache.Cache
	opts  translate.Options
	log   *slog.Logger

	mu       sync.Mutex
	services map[model.ServiceKey]model.Service
	aliases  map[model.ServiceKey][]string
	// claims lists, per alias, every service that has it; the first in key order
	// serves it, so the choice does not depend on event order.
	claims  map[string][]model.ServiceKey
	synced  chan struct{}
	onSync  sync.Once
	metrics Metrics
	// Kept up to date per event so no event costs time in the number of services.
	endpoints, conflicts int
}

var _ source.Sink = (*Registry)(nil)

// Metrics receives counts for /metrics; any method may be a no-op.
type Metrics interface {
	Services(n int)
	Endpoints(n int)
	AliasConflicts(n int)
	Rejected()
}

// New returns an empty registry that publishes to cache.
func New(cache *xdscache.Cache, opts translate.Options, metrics Metrics, log *slog.Logger) *Registry {
	return &Registry{
		cache:    cache,
		opts:     opts,
		log:      log,
		services: map[model.ServiceKey]model.Service{},
		aliases:  map[model.ServiceKey][]string{},
		claims:   map[string][]model.ServiceKey{},
		synced:   make(chan struct{}),
		metrics:  metrics,
	}
}

// Set publishes a service, or does nothing if it is unchanged.
func (r *Registry) Set(svc model.Service) {
	if err := svc.Validate(); err != nil {
		r.log.Error("rejected service from discovery", "service", svc.Key, "err", err)
		r.metrics.Rejected()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.services[svc.Key]; ok && old.Equal(svc) {
		return
	}
	svc = svc.Clone()
	r.endpoints += len(svc.Endpoints) - len(r.services[svc.Key].Endpoints)
	r.services[svc.Key] = svc
	res := translate.Service(svc, r.opts)
	listeners := r.reclaim(svc.Key, res.Aliases)
	err := r.cache.Apply(
		xdscache.Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{res.Endpoints.ClusterName: res.Endpoints}},
		xdscache.Change{TypeURL: resource.ClusterType, Set: map[string]proto.Message{res.Cluster.Name: res.Cluster}},
		xdscache.Change{TypeURL: resource.RouteType, Set: map[string]proto.Message{res.Route.Name: res.Route}},
		listeners,
	)
	if err != nil {
		r.log.Error("cannot publish service", "service", svc.Key, "err", err)
	}
	r.count()
}

// Delete withdraws a service: listeners first, so no client is left pointing
// at a missing route or cluster.
func (r *Registry) Delete(key model.ServiceKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.services[key]
	if !ok {
		return
	}
	r.endpoints -= len(old.Endpoints)
	delete(r.services, key)
	listeners := r.reclaim(key, nil)
	name := translate.ClusterName(key)
	err := r.cache.Apply(
		listeners,
		xdscache.Change{TypeURL: resource.RouteType, Delete: []string{translate.RouteName(key)}},
		xdscache.Change{TypeURL: resource.ClusterType, Delete: []string{name}},
		xdscache.Change{TypeURL: resource.EndpointType, Delete: []string{name}},
	)
	if err != nil {
		r.log.Error("cannot withdraw service", "service", key, "err", err)
	}
	r.count()
}

// Synced marks the initial discovery complete: unknown names may now be
// answered "does not exist".
func (r *Registry) Synced() {
	r.onSync.Do(func() {
		r.cache.EnablePlaceholders(func(name string) proto.Message { return translate.PlaceholderListener(name) })
		close(r.synced)
	})
}

// Ready is closed once discovery has synced.
func (r *Registry) Ready() <-chan struct{} { return r.synced }

// Services returns a copy of the model, sorted by key, for the admin pages.
func (r *Registry) Services() []model.Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]model.Service, 0, len(r.services))
	for _, s := range r.services {
		out = append(out, s.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.String() < out[j].Key.String() })
	return out
}

// reclaim records the aliases key now has (none when deleted) and returns the
// listener changes for every alias whose serving service may have changed.
func (r *Registry) reclaim(key model.ServiceKey, aliases []string) xdscache.Change {
	affected := map[string]struct{}{}
	for _, a := range r.aliases[key] {
		if len(r.claims[a]) > 1 {
			r.conflicts--
		}
		affected[a] = struct{}{}
		r.claims[a] = slices.DeleteFunc(r.claims[a], func(k model.ServiceKey) bool { return k == key })
	}
	for _, a := range aliases {
		if _, ok := affected[a]; !ok && len(r.claims[a]) > 1 {
			r.conflicts--
		}
		affected[a] = struct{}{}
		c := append(r.claims[a], key)
		slices.SortFunc(c, func(x, y model.ServiceKey) int {
			return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
		})
		r.claims[a] = c
	}
	if aliases == nil {
		delete(r.aliases, key)
	} else {
		r.aliases[key] = aliases
	}
	ch := xdscache.Change{TypeURL: resource.ListenerType, Set: map[string]proto.Message{}}
	for a := range affected {
		owners := r.claims[a]
		switch {
		case len(owners) == 0:
			delete(r.claims, a)
			ch.Delete = append(ch.Delete, a)
		default:
			if len(owners) > 1 {
				r.conflicts++
				r.log.Warn("target name claimed by several services; serving the first", "name", a, "services", owners)
			}
			ch.Set[a] = translate.Listener(a, translate.RouteName(owners[0]))
		}
	}
	return ch
}

// count updates gauges; it holds r.mu.
func (r *Registry) count() {
	r.metrics.Services(len(r.services))
	r.metrics.Endpoints(r.endpoints)
	r.metrics.AliasConflicts(r.conflicts)
}
