// Package registry keeps the current model of every service and publishes each
// change to the xDS cache: it is the source.Sink at the end of the discovery
// path. Work per event is at most one service's translation, and only its
// endpoints when nothing else changed; the cache then pushes only the
// resources whose bytes changed. Changes that arrive while a publication is in
// progress are published together right after it (see publish.go).
package registry

import (
	"cmp"
	"log/slog"
	"slices"
	"sort"
	"sync"

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
	claims map[string][]model.ServiceKey
	// pending is the part of the model not yet in the cache; see publish.go.
	pending    pending
	publishing bool
	// seq counts model changes; published is the last one in the cache.
	seq, published uint64
	idle           *sync.Cond
	synced         chan struct{}
	onSync         sync.Once
	metrics        Metrics
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
	r := &Registry{
		cache:    cache,
		opts:     opts,
		log:      log,
		services: map[model.ServiceKey]model.Service{},
		aliases:  map[model.ServiceKey][]string{},
		claims:   map[string][]model.ServiceKey{},
		pending:  newPending(),
		synced:   make(chan struct{}),
		metrics:  metrics,
	}
	r.idle = sync.NewCond(&r.mu)
	return r
}

// Set publishes a service, or does nothing if it is unchanged. When no
// publication is in progress the change is in the cache when Set returns;
// otherwise the publication in progress takes it next.
func (r *Registry) Set(svc model.Service) {
	if err := svc.Validate(); err != nil {
		r.log.Error("rejected service from discovery", "service", svc.Key, "err", err)
		r.metrics.Rejected()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.services[svc.Key]
	if had && old.Equal(svc) {
		return
	}
	svc = svc.Clone()
	r.endpoints += len(svc.Endpoints) - len(old.Endpoints)
	r.services[svc.Key] = svc
	// Route, cluster and listeners do not depend on the endpoints (see
	// translate.Service), so an endpoint change leaves them alone.
	full := !had || !sameButEndpoints(old, svc)
	if full {
		r.reclaim(svc.Key, translate.Aliases(svc, r.opts))
	}
	r.pending.service(svc.Key, full)
	r.count()
	r.publish()
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
	r.reclaim(key, nil)
	r.pending.service(key, true)
	r.count()
	r.publish()
}

// Synced marks the initial discovery complete: unknown names may now be
// answered "does not exist".
func (r *Registry) Synced() {
	r.onSync.Do(func() {
		// Everything reported before Synced must be in the cache first, or
		// a client could be told that a service it dialed does not exist.
		r.mu.Lock()
		for want := r.seq; r.published < want; {
			r.idle.Wait()
		}
		r.mu.Unlock()
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

// reclaim records the aliases key now has (none when deleted) and marks for
// publication every alias whose serving service may have changed.
func (r *Registry) reclaim(key model.ServiceKey, aliases []string) {
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
	for a := range affected {
		owners := r.claims[a]
		switch {
		case len(owners) == 0:
			delete(r.claims, a)
		case len(owners) > 1:
			r.conflicts++
			r.log.Warn("target name claimed by several services; serving the first", "name", a, "services", owners)
		}
		r.pending.alias(a)
	}
}

// count updates gauges; it holds r.mu.
func (r *Registry) count() {
	r.metrics.Services(len(r.services))
	r.metrics.Endpoints(r.endpoints)
	r.metrics.AliasConflicts(r.conflicts)
}
