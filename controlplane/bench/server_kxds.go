package bench

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/registry"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
	"github.com/kxds/kxds/controlplane/internal/xdsserver"
)

// serverUnderTest is one xDS server design as the child process runs it.
type serverUnderTest interface {
	// sink is what discovery reports to: the child calls it itself (-source
	// sink) or runs a discovery source against it.
	sink() source.Sink
	grpc() *grpc.Server
}

// kxdsServer is wired the way internal/kxds wires kxds (metrics, registry,
// shared cache, client tracker, ADS server), minus discovery and the admin
// server: the child runs discovery against the registry's source.Sink.
type kxdsServer struct {
	reg *registry.Registry
	srv *grpc.Server
}

func newKxdsServer(ctx context.Context, log *slog.Logger, nacks *nackCounter) *kxdsServer {
	m := metrics.New(log)
	cache := xdscache.New(m)
	reg := registry.New(cache, translateOptions, m, log)
	nacks.Metrics = m
	tracker := xdsserver.NewClientTracker(nacks, log)
	return &kxdsServer{reg: reg, srv: xdsserver.NewGRPCServer(ctx, cache, tracker)}
}

func (s *kxdsServer) sink() source.Sink  { return s.reg }
func (s *kxdsServer) grpc() *grpc.Server { return s.srv }
