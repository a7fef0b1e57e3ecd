package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/kxds/kxds/protos/echo"
)

// Options configure a Backend. Only Hostname is required.
type Options struct {
	// Hostname is put in every reply; it identifies the pod to clients.
	Hostname string
	// StreamInterval is the pause between SayHelloStream replies.
	StreamInterval time.Duration
	// Reflection registers the gRPC reflection service (for grpcurl and such).
	Reflection bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ServerOptions are passed to grpc.NewServer.
	ServerOptions []grpc.ServerOption
}

// Backend is a ready-to-serve gRPC server with the echo and health services.
// It starts SERVING.
type Backend struct {
	server *Server
	health *healthService
	grpc   *grpc.Server
	logger *slog.Logger
}

// NewBackend builds a Backend; call Serve to start it.
func NewBackend(opts Options) (*Backend, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	srv, err := NewServer(opts.Hostname, opts.StreamInterval, opts.Logger)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		server: srv,
		health: newHealthService(),
		grpc:   grpc.NewServer(opts.ServerOptions...),
		logger: opts.Logger.With("hostname", opts.Hostname),
	}
	echo.RegisterEchoServerServer(b.grpc, srv)
	healthgrpc.RegisterHealthServer(b.grpc, b.health)
	if opts.Reflection {
		reflection.Register(b.grpc)
	}
	return b, nil
}

// Serve serves on lis until the backend is stopped, then returns nil. It
// closes lis. A backend stopped before Serve runs (a common race when tests
// start Serve in a goroutine) is not an error either.
func (b *Backend) Serve(lis net.Listener) error {
	b.logger.Info("echo backend serving", "addr", lis.Addr().String())
	if err := b.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("echo backend on %s: %w", lis.Addr(), err)
	}
	return nil
}

// GRPCServer is the underlying server, for registering more services.
func (b *Backend) GRPCServer() *grpc.Server { return b.grpc }

// Server is the EchoServer implementation.
func (b *Backend) Server() *Server { return b.server }

// Hostname is the name the backend puts in its replies.
func (b *Backend) Hostname() string { return b.server.Hostname() }

// Served counts echo RPCs accepted so far (see Server.Served).
func (b *Backend) Served() int64 { return b.server.Served() }

// SetServing reports SERVING or NOT_SERVING for both "" and "echo.EchoServer"
// to Check and Watch callers. RPCs are answered either way: health only tells
// clients where to send traffic. Ignored once Shutdown has begun.
func (b *Backend) SetServing(serving bool) {
	b.logger.Info("echo backend health changed", "serving", serving)
	b.health.setServing(serving)
}

// Shutdown reports NOT_SERVING for every service, keeps answering RPCs for
// drain so that clients notice and move away, then stops gracefully: new
// connections are refused and in-flight RPCs complete. Health Watch streams
// are ended at that point since they would never finish on their own. If ctx
// ends first, it closes every connection at once and returns an error naming
// what was interrupted.
func (b *Backend) Shutdown(ctx context.Context, drain time.Duration) error {
	b.logger.Info("echo backend draining", "drain", drain)
	b.health.Shutdown()

	if drain > 0 {
		timer := time.NewTimer(drain)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			b.Stop()
			return fmt.Errorf("echo backend drain of %v interrupted: %w", drain, ctx.Err())
		}
	}

	b.health.endWatches()
	stopped := make(chan struct{})
	go func() {
		b.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		b.logger.Info("echo backend stopped")
		return nil
	case <-ctx.Done():
		b.Stop()
		<-stopped
		return fmt.Errorf("echo backend graceful stop interrupted, in-flight RPCs were cancelled: %w", ctx.Err())
	}
}

// Stop closes every connection and cancels in-flight RPCs at once, much like a
// crashed pod, without reporting NOT_SERVING first.
func (b *Backend) Stop() {
	b.health.endWatches()
	b.grpc.Stop()
}
