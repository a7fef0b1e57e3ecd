package server

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
)

func watchHealth(t *testing.T, ctx context.Context, conn *grpc.ClientConn, service string) grpc.ServerStreamingClient[healthpb.HealthCheckResponse] {
	t.Helper()
	w, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("Watch(%q): %v", service, err)
	}
	return w
}

func expectStatus(t *testing.T, w grpc.ServerStreamingClient[healthpb.HealthCheckResponse], want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	resp, err := w.Recv()
	if err != nil {
		t.Fatalf("Watch: waiting for %v: %v", want, err)
	}
	if resp.GetStatus() != want {
		t.Fatalf("Watch: got %v, want %v", resp.GetStatus(), want)
	}
}

func expectCheck(t *testing.T, ctx context.Context, conn *grpc.ClientConn, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("Check(%q): %v", service, err)
	}
	if resp.GetStatus() != want {
		t.Errorf("Check(%q) = %v, want %v", service, resp.GetStatus(), want)
	}
}

func TestHealthCheckFollowsSetServing(t *testing.T) {
	b, conn := startBackend(t, Options{Hostname: "pod-a"})
	ctx := testContext(t)
	for _, step := range []struct {
		serving bool
		want    healthpb.HealthCheckResponse_ServingStatus
	}{{true, serving}, {false, notServing}, {true, serving}} {
		b.SetServing(step.serving)
		for _, svc := range []string{"", "echo.EchoServer"} {
			expectCheck(t, ctx, conn, svc, step.want)
		}
	}

	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "no.Such"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(no.Such): got %v, want code NotFound", err)
	}
}

func TestHealthWatchFollowsSetServing(t *testing.T) {
	b, conn := startBackend(t, Options{Hostname: "pod-a"})
	ctx := testContext(t)
	whole := watchHealth(t, ctx, conn, "")
	svc := watchHealth(t, ctx, conn, "echo.EchoServer")
	expectStatus(t, whole, serving)
	expectStatus(t, svc, serving)

	b.SetServing(false)
	expectStatus(t, whole, notServing)
	expectStatus(t, svc, notServing)

	b.SetServing(true)
	expectStatus(t, whole, serving)
	expectStatus(t, svc, serving)
}
