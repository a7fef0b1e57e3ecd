package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/protos/echo"
)

// startBackend serves a Backend on a loopback port and returns it with a
// client connection to it; both are cleaned up when the test ends.
func startBackend(t *testing.T, opts Options) (*Backend, *grpc.ClientConn) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := NewBackend(opts)
	if err != nil {
		t.Fatalf("NewBackend: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- b.Serve(lis) }()
	t.Cleanup(func() {
		b.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return b, conn
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNewBackendRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"empty hostname":           {},
		"blank hostname":           {Hostname: "  "},
		"negative stream interval": {Hostname: "pod", StreamInterval: -time.Second},
	} {
		if _, err := NewBackend(opts); err == nil {
			t.Errorf("%s: NewBackend(%+v) succeeded, want error", name, opts)
		}
	}
}

func TestBackendAccessors(t *testing.T) {
	b, err := NewBackend(Options{Hostname: "pod-a", Reflection: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Hostname(); got != "pod-a" {
		t.Errorf("Hostname() = %q, want pod-a", got)
	}
	info := b.GRPCServer().GetServiceInfo()
	for _, svc := range []string{"echo.EchoServer", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if _, ok := info[svc]; !ok {
			t.Errorf("service %s not registered; have %v", svc, info)
		}
	}
}

func TestShutdownDrainsThenCompletesInFlightStream(t *testing.T) {
	const drain = 300 * time.Millisecond
	b, conn := startBackend(t, Options{Hostname: "pod-a", StreamInterval: 200 * time.Millisecond})
	ctx := testContext(t)
	watch := watchHealth(t, ctx, conn, "echo.EchoServer")
	expectStatus(t, watch, serving)

	stream, err := echo.NewEchoServerClient(conn).SayHelloStream(ctx, &echo.EchoRequest{Name: "s"})
	if err != nil {
		t.Fatalf("SayHelloStream: %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first stream reply: %v", err)
	}

	start := time.Now()
	shutdown := make(chan error, 1)
	go func() { shutdown <- b.Shutdown(ctx, drain) }()

	expectStatus(t, watch, notServing)
	// Draining means NOT_SERVING yet still answering, for clients that have
	// not noticed yet.
	if _, err := echo.NewEchoServerClient(conn).SayHello(ctx, &echo.EchoRequest{Name: "late"}); err != nil {
		t.Errorf("SayHello during drain: %v", err)
	}
	b.SetServing(true) // must be ignored once shutting down
	expectCheck(t, ctx, conn, "", notServing)

	for i := 1; i < StreamReplies; i++ {
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("stream reply %d during shutdown: %v", i+1, err)
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("stream end: got %v, want io.EOF", err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if elapsed := time.Since(start); elapsed < drain {
		t.Errorf("Shutdown returned after %v, before the %v drain", elapsed, drain)
	}
	if _, err := watch.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("health watch after shutdown: got %v, want code Unavailable", err)
	}
}

func TestShutdownStopsWhenContextEnds(t *testing.T) {
	b, conn := startBackend(t, Options{Hostname: "pod-a", StreamInterval: time.Minute})
	stream, err := echo.NewEchoServerClient(conn).SayHelloStream(testContext(t), &echo.EchoRequest{Name: "s"})
	if err != nil {
		t.Fatalf("SayHelloStream: %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first stream reply: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck stream: got %v, want context.DeadlineExceeded", err)
	}
	if _, err := stream.Recv(); err == nil {
		t.Error("stuck stream still receiving after a forced stop")
	}
}

func TestShutdownInterruptedDuringDrain(t *testing.T) {
	b, _ := startBackend(t, Options{Hostname: "pod-a"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Shutdown(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended context: got %v, want context.Canceled", err)
	}
}
