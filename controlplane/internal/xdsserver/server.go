// Package xdsserver serves the xDS cache to clients over gRPC, with
// go-control-plane's state-of-the-world ADS server.
package xdsserver

import (
	"context"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
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
	xds := server.NewServer(ctx, c, callbacks)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(s, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(s, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(s, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(s, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(s, xds)
	return s
}
