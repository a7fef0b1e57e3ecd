// Package xdsserver serves the xDS cache to clients over gRPC, with
// go-control-plane's state-of-the-world ADS server.
package xdsserver

import (
	"context"
	"time"
	"unique"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// NewGRPCServer returns a gRPC server with the ADS service (and the per-type
// services, for Envoy) registered.
func NewGRPCServer(ctx context.Context, c cache.Cache, callbacks server.Callbacks) *grpc.Server {
	s := grpc.NewServer(
		// Every client holds one long-lived stream; do not cap them per connection.
		grpc.MaxConcurrentStreams(1<<20),
		// Let clients keep idle streams alive through NATs and load balancers.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	if callbacks == nil {
		callbacks = server.CallbackFuncs{}
	}
	// Ordered ADS: each stream waits on one channel shared by its watches,
	// with a plain select, instead of a channel per watch and reflect.Select
	// over all of them: less memory per stream, and responses leave in the
	// order the cache produced them. The cache never blocks on that channel:
	// it holds one response per type at most (see xdscache.Cache.notify).
	xds := server.NewServer(ctx, c, interning{callbacks}, sotw.WithOrderedADS())
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(s, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(s, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(s, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(s, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(s, xds)
	return s
}

// interning hands the server each request with its resource names replaced by
// canonical copies, before the stream's subscription (and the cache's watch
// index) keep them. Every client names the same few resources, and every
// request (an ACK included) brings fresh copies of those names: a stream
// would otherwise hold its own copy of each name it watches.
type interning struct{ server.Callbacks }

func (c interning) OnStreamRequest(id int64, req *discoverygrpc.DiscoveryRequest) error {
	names := req.GetResourceNames()
	for i, name := range names {
		names[i] = unique.Make(name).Value()
	}
	// Kept too, by the watch and the client tracker; nonces are per stream.
	req.TypeUrl = unique.Make(req.GetTypeUrl()).Value()
	req.VersionInfo = unique.Make(req.GetVersionInfo()).Value()
	return c.Callbacks.OnStreamRequest(id, req)
}
