package bench

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"

	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdsserver"
)

// baselineServer is the naive design kxds replaces: go-control-plane's
// SnapshotCache (ads=false, so requests naming a subset are answered), one
// full snapshot per node, rebuilt from the whole model and set again for every
// node on every change. It serves the same resources (same translate package)
// through the same gRPC server and client tracker, so the difference measured
// is the cache design alone.
type baselineServer struct {
	cache cache.SnapshotCache
	srv   *grpc.Server

	// seen is checked on every request, so it has its own lock: requests
	// must not queue behind a rebuild just to learn their node is known.
	seenMu sync.Mutex
	seen   map[string]struct{}

	mu       sync.Mutex
	services map[model.ServiceKey]model.Service
	synced   bool // until discovery is synced, services only accumulate
	nodes    map[string]struct{}
	version  int
	// current is the last full translation: a node that connects between
	// changes gets a snapshot of it.
	current map[resource.Type][]types.Resource
}

func newBaselineServer(ctx context.Context, log *slog.Logger, nacks *nackCounter) *baselineServer {
	b := &baselineServer{
		cache:    cache.NewSnapshotCache(false, cache.IDHash{}, nil),
		services: map[model.ServiceKey]model.Service{},
		nodes:    map[string]struct{}{},
		seen:     map[string]struct{}{},
	}
	nacks.Metrics = metrics.New(log)
	callbacks := &nodeRegistering{ClientTracker: xdsserver.NewClientTracker(nacks, log), onNode: b.addNode}
	b.srv = xdsserver.NewGRPCServer(ctx, b.cache, callbacks)
	return b
}

// Set rebuilds everything for every change; a source re-reporting a service
// unchanged (a restarted Kubernetes source re-sends all of them) costs
// nothing, as in kxds.
func (b *baselineServer) Set(svc model.Service) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.services[svc.Key]; ok && old.Equal(svc) {
		return
	}
	b.services[svc.Key] = svc.Clone()
	if b.synced {
		b.rebuildAll()
	}
}

func (b *baselineServer) Delete(key model.ServiceKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.services[key]; !ok {
		return
	}
	delete(b.services, key)
	if b.synced {
		b.rebuildAll()
	}
}

func (b *baselineServer) Synced() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.synced {
		b.synced = true
		b.rebuildAll()
	}
}

func (b *baselineServer) sink() source.Sink  { return b }
func (b *baselineServer) grpc() *grpc.Server { return b.srv }

// rebuildAll translates the whole model and sets a new snapshot for every node.
func (b *baselineServer) rebuildAll() {
	b.version++
	res := map[resource.Type][]types.Resource{}
	for _, svc := range b.services {
		r := translate.Service(svc, translateOptions)
		res[resource.EndpointType] = append(res[resource.EndpointType], r.Endpoints)
		res[resource.ClusterType] = append(res[resource.ClusterType], r.Cluster)
		res[resource.RouteType] = append(res[resource.RouteType], r.Route)
		for _, a := range r.Aliases {
			res[resource.ListenerType] = append(res[resource.ListenerType], translate.Listener(a, translate.RouteName(svc.Key)))
		}
	}
	b.current = res
	for node := range b.nodes {
		b.setSnapshot(node)
	}
}

func (b *baselineServer) setSnapshot(node string) {
	snap, err := cache.NewSnapshot(strconv.Itoa(b.version), b.current)
	if err == nil {
		err = b.cache.SetSnapshot(context.Background(), node, snap)
	}
	if err != nil {
		panic("baseline snapshot: " + err.Error())
	}
}

// addNode gives a node its snapshot when it first shows up: SnapshotCache
// answers nobody it has no snapshot for.
func (b *baselineServer) addNode(id string) {
	b.seenMu.Lock()
	_, seen := b.seen[id]
	b.seen[id] = struct{}{}
	b.seenMu.Unlock()
	if seen {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.nodes[id]; ok {
		return
	}
	b.nodes[id] = struct{}{}
	if b.current != nil {
		b.setSnapshot(id)
	}
}

// nodeRegistering runs before the cache sees a request, so a new node's
// first request already finds its snapshot.
type nodeRegistering struct {
	*xdsserver.ClientTracker
	onNode func(id string)
}

func (n *nodeRegistering) OnStreamRequest(id int64, req *discovery.DiscoveryRequest) error {
	n.onNode(req.GetNode().GetId())
	return n.ClientTracker.OnStreamRequest(id, req)
}
