package server

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/protos/echo"
)

// healthServices are the names a health check may ask about: the whole server
// ("") and the echo service, which is what xDS health checking asks for.
var healthServices = []string{"", echo.EchoServer_ServiceDesc.ServiceName}

// healthService is the standard grpc health server, except that Watch streams
// end when the backend stops. Watch never returns on its own, so without this
// a single watching client would keep GracefulStop waiting until it gives up
// and closes every connection the hard way.
type healthService struct {
	*health.Server

	stopping     chan struct{}
	stoppingOnce sync.Once
}

func newHealthService() *healthService {
	h := &healthService{Server: health.NewServer(), stopping: make(chan struct{})}
	h.setServing(true)
	return h
}

func (h *healthService) setServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, svc := range healthServices {
		h.SetServingStatus(svc, st)
	}
}

// endWatches makes every current and future Watch return.
func (h *healthService) endWatches() {
	h.stoppingOnce.Do(func() { close(h.stopping) })
}

func (h *healthService) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-h.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := h.Server.Watch(req, &watchStream{Health_WatchServer: stream, ctx: ctx})
	select {
	case <-h.stopping:
		return status.Error(codes.Unavailable, "echo backend is shutting down")
	default:
		return err
	}
}

// watchStream lets Watch see a context that also ends when the backend stops.
type watchStream struct {
	healthpb.Health_WatchServer
	ctx context.Context
}

func (w *watchStream) Context() context.Context { return w.ctx }
