package registry

import (
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
)

// Coalescing: the caller that finds the registry idle publishes its change at
// once, with no timer. Changes that arrive while it is in cache.Apply (other
// goroutines: informers, health checks) only update the model and return;
// the publisher then takes them all in one more Apply, so a burst costs one
// new version and one push per subscriber instead of one per change, and a
// quiet registry adds no delay at all.

// pending is the part of the model not yet in the cache.
type pending struct {
	// services: true when more than the endpoints changed (or the service
	// came or went), so route and cluster must be rebuilt too.
	services map[model.ServiceKey]bool
	// aliases are listener names whose serving service may have changed.
	aliases map[string]struct{}
}

func newPending() pending {
	return pending{services: map[model.ServiceKey]bool{}, aliases: map[string]struct{}{}}
}

func (p pending) service(key model.ServiceKey, full bool) { p.services[key] = p.services[key] || full }
func (p pending) alias(name string)                       { p.aliases[name] = struct{}{} }
func (p pending) empty() bool                             { return len(p.services) == 0 && len(p.aliases) == 0 }

// publish brings the cache up to date with the model unless another caller
// is already doing so. It holds r.mu, and releases it during cache.Apply.
func (r *Registry) publish() {
	r.seq++
	if r.publishing {
		return
	}
	r.publishing = true
	for !r.pending.empty() {
		seq := r.seq
		changes := r.takePending()
		r.mu.Unlock()
		err := r.cache.Apply(changes...)
		r.mu.Lock()
		if err != nil {
			r.log.Error("cannot publish services", "err", err)
		}
		r.published = seq
	}
	r.publishing = false
	r.idle.Broadcast()
}

// takePending translates what is pending into cache changes, ordered so that
// no client sees a reference before its target: additions bottom-up (EDS,
// CDS, RDS, then listeners), removals after the listeners that pointed at
// them. It holds r.mu.
func (r *Registry) takePending() []xdscache.Change {
	eds := xdscache.Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{}}
	cds := xdscache.Change{TypeURL: resource.ClusterType, Set: map[string]proto.Message{}}
	rds := xdscache.Change{TypeURL: resource.RouteType, Set: map[string]proto.Message{}}
	lds := xdscache.Change{TypeURL: resource.ListenerType, Set: map[string]proto.Message{}}
	gone := []xdscache.Change{{TypeURL: resource.RouteType}, {TypeURL: resource.ClusterType}, {TypeURL: resource.EndpointType}}
	for key, full := range r.pending.services {
		name := translate.ClusterName(key)
		svc, ok := r.services[key]
		switch {
		case !ok:
			gone[0].Delete = append(gone[0].Delete, translate.RouteName(key))
			gone[1].Delete = append(gone[1].Delete, name)
			gone[2].Delete = append(gone[2].Delete, name)
		case full:
			res := translate.Service(svc, r.opts)
			eds.Set[name] = res.Endpoints
			cds.Set[res.Cluster.Name] = res.Cluster
			rds.Set[res.Route.Name] = res.Route
		default:
			eds.Set[name] = translate.ClusterLoadAssignment(name, svc)
		}
	}
	for a := range r.pending.aliases {
		if owners := r.claims[a]; len(owners) > 0 {
			lds.Set[a] = translate.Listener(a, translate.RouteName(owners[0]))
		} else {
			lds.Delete = append(lds.Delete, a)
		}
	}
	clear(r.pending.services)
	clear(r.pending.aliases)
	var out []xdscache.Change
	for _, ch := range append([]xdscache.Change{eds, cds, rds, lds}, gone...) {
		if len(ch.Set) > 0 || len(ch.Delete) > 0 {
			out = append(out, ch)
		}
	}
	return out
}

// sameButEndpoints reports whether a and b differ in their endpoints only.
func sameButEndpoints(a, b model.Service) bool {
	a.Endpoints, b.Endpoints = nil, nil
	return a.Equal(b)
}
