package health

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	"github.com/kxds/kxds/controlplane/internal/model"
)

const grpcService = "kxds.test.Echo"

// testOptions keep hysteresis short so that tests are quick; the 1 s removal
// bound is checked with the default ResponseTimeout.
func testOptions(t *testing.T) Options {
	return Options{
		RecoverAfter:   300 * time.Millisecond,
		RetryBaseDelay: 20 * time.Millisecond,
		RetryMaxDelay:  200 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// backend is a real gRPC server on 127.0.0.1 serving grpc.health.v1.
type backend struct {
	addr   netip.AddrPort
	health *grpchealth.Server
	server *grpc.Server
	conns  atomic.Int64 // open server-side connections
}

func startBackend(t *testing.T, register func(*grpc.Server)) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	b := &backend{addr: netip.MustParseAddrPort(lis.Addr().String())}
	b.server = grpc.NewServer(grpc.StatsHandler(connCounter{&b.conns}))
	if register == nil {
		b.health = grpchealth.NewServer()
		b.health.SetServingStatus(grpcService, healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(b.server, b.health)
	} else {
		register(b.server)
	}
	go b.server.Serve(lis)
	t.Cleanup(b.server.Stop)
	return b
}

func (b *backend) endpoint() model.Endpoint {
	return model.Endpoint{Address: b.addr.Addr(), Port: uint32(b.addr.Port())}
}

// connCounter counts a server's open connections.
type connCounter struct{ open *atomic.Int64 }

func (connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (connCounter) HandleRPC(context.Context, stats.RPCStats)                         {}
func (connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	switch s.(type) {
	case *stats.ConnBegin:
		c.open.Add(1)
	case *stats.ConnEnd:
		c.open.Add(-1)
	}
}

// recordingSink remembers everything forwarded to it.
type recordingSink struct {
	mu      sync.Mutex
	sets    []model.Service
	deletes []model.ServiceKey
	synced  int
	// seq is every Set and Delete in order; a Delete is a Service with only
	// its Key and Port deletedPort.
	seq []model.Service
}

const deletedPort = 1 << 20

func (s *recordingSink) Set(svc model.Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets = append(s.sets, svc)
	s.seq = append(s.seq, svc)
}

func (s *recordingSink) Delete(k model.ServiceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes = append(s.deletes, k)
	s.seq = append(s.seq, model.Service{Key: k, Port: deletedPort})
}

func (s *recordingSink) Synced() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced++
}

// healthOf is the latest forwarded health of addr in the service key.
func (s *recordingSink) healthOf(key model.ServiceKey, addr string) (model.HealthStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sets) - 1; i >= 0; i-- {
		if s.sets[i].Key != key {
			continue
		}
		for _, e := range s.sets[i].Endpoints {
			if e.HostPort() == addr {
				return e.Health, true
			}
		}
		return 0, false
	}
	return 0, false
}

// checkNoDuplicates fails if the same service was forwarded twice in a row,
// or deleted twice.
func (s *recordingSink) checkNoDuplicates(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	last := map[model.ServiceKey]model.Service{}
	for _, svc := range s.seq {
		if prev, ok := last[svc.Key]; ok && prev.Equal(svc) {
			t.Errorf("service %s forwarded twice unchanged: %+v", svc.Key, svc)
		}
		last[svc.Key] = svc
	}
}

// waitFor polls cond until it holds or within elapses, and returns how long it took.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func waitHealth(t *testing.T, sink *recordingSink, key model.ServiceKey, addr string, want model.HealthStatus, within time.Duration) time.Duration {
	t.Helper()
	return waitFor(t, within, addr+" "+want.String(), func() bool {
		h, ok := sink.healthOf(key, addr)
		return ok && h == want
	})
}

var testKey = model.ServiceKey{Namespace: "ns", Name: "echo"}

func testService(eps ...model.Endpoint) model.Service {
	return model.Service{Key: testKey, Port: 50051, GRPCServiceName: grpcService, HealthCheck: true, Endpoints: eps}
}

func newTestChecker(t *testing.T, opts Options) (*Checker, *recordingSink) {
	sink := &recordingSink{}
	c := NewChecker(sink, opts)
	t.Cleanup(c.Close)
	return c, sink
}

func TestServingEndpointIsHealthy(t *testing.T) {
	b := startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b.endpoint()))

	if h, _ := sink.healthOf(testKey, b.addr.String()); h != model.HealthUnknown {
		t.Errorf("first forwarded health = %v, want UNKNOWN until the first answer", h)
	}
	waitHealth(t, sink, testKey, b.addr.String(), model.HealthHealthy, time.Second)
	c.Synced()
	if sink.synced != 1 {
		t.Errorf("Synced forwarded %d times, want 1", sink.synced)
	}
	sink.checkNoDuplicates(t)
}

func TestNotServingLeavesWithinOneSecondAndComesBackAfterHysteresis(t *testing.T) {
	b := startBackend(t, nil)
	opts := testOptions(t)
	c, sink := newTestChecker(t, opts)
	c.Set(testService(b.endpoint()))
	addr := b.addr.String()
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, time.Second)

	b.health.SetServingStatus(grpcService, healthpb.HealthCheckResponse_NOT_SERVING)
	took := waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	t.Logf("NOT_SERVING → UNHEALTHY in %v", took)

	b.health.SetServingStatus(grpcService, healthpb.HealthCheckResponse_SERVING)
	took = waitHealth(t, sink, testKey, addr, model.HealthHealthy, opts.RecoverAfter+time.Second)
	if took < opts.RecoverAfter {
		t.Errorf("healthy again after %v, before RecoverAfter %v", took, opts.RecoverAfter)
	}
	t.Logf("SERVING → HEALTHY in %v", took)
	sink.checkNoDuplicates(t)
}

func TestFlappingBackendStaysUnhealthy(t *testing.T) {
	b := startBackend(t, nil)
	opts := testOptions(t)
	opts.RecoverAfter = 500 * time.Millisecond
	c, sink := newTestChecker(t, opts)
	c.Set(testService(b.endpoint()))
	addr := b.addr.String()
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, time.Second)

	b.health.SetServingStatus(grpcService, healthpb.HealthCheckResponse_NOT_SERVING)
	waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	// Flip faster than RecoverAfter: every SERVING spell is cut short.
	flipUntil := time.Now().Add(2 * opts.RecoverAfter)
	for serving := true; time.Now().Before(flipUntil); serving = !serving {
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if serving {
			st = healthpb.HealthCheckResponse_SERVING
		}
		b.health.SetServingStatus(grpcService, st)
		if h, _ := sink.healthOf(testKey, addr); h != model.HealthUnhealthy {
			t.Fatalf("flapping endpoint forwarded as %v", h)
		}
		time.Sleep(opts.RecoverAfter / 5) // the flapping rate, not a wait for a result
	}
}

func TestKilledServerLeavesWithinOneSecond(t *testing.T) {
	b := startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b.endpoint()))
	addr := b.addr.String()
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, time.Second)

	b.server.Stop()
	took := waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	t.Logf("killed → UNHEALTHY in %v", took)
}

func TestUnreachableEndpointLeavesWithinOneSecond(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there any more

	opts := testOptions(t)
	opts.ResponseTimeout = 0 // the default is what must meet the bound
	c, sink := newTestChecker(t, opts)
	ep, err := model.ParseEndpoint(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(testService(ep))
	took := waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	t.Logf("unreachable → UNHEALTHY in %v", took)

	if snap := c.Snapshot(); len(snap) != 1 || !snap[0].Checked || snap[0].Health != model.HealthUnhealthy || snap[0].Detail == "" {
		t.Errorf("Snapshot() = %+v, want one checked UNHEALTHY endpoint with a detail", snap)
	}
}

func TestUnknownGRPCServiceIsUnhealthy(t *testing.T) {
	b := startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	svc := testService(b.endpoint())
	svc.GRPCServiceName = "not.Registered"
	c.Set(svc)
	waitHealth(t, sink, testKey, b.addr.String(), model.HealthUnhealthy, time.Second)
}

func TestRemovedEndpointConnectionIsClosed(t *testing.T) {
	b1, b2 := startBackend(t, nil), startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b1.endpoint(), b2.endpoint()))
	waitHealth(t, sink, testKey, b1.addr.String(), model.HealthHealthy, time.Second)
	waitHealth(t, sink, testKey, b2.addr.String(), model.HealthHealthy, time.Second)
	if n1, n2 := b1.conns.Load(), b2.conns.Load(); n1 != 1 || n2 != 1 {
		t.Fatalf("open connections = %d, %d; want one per endpoint", n1, n2)
	}

	c.Set(testService(b2.endpoint()))
	waitFor(t, 2*time.Second, "removed endpoint's connection closed", func() bool { return b1.conns.Load() == 0 })
	if n := b2.conns.Load(); n != 1 {
		t.Errorf("remaining endpoint has %d connections, want 1", n)
	}
	if snap := c.Snapshot(); len(snap) != 1 || snap[0].Address != b2.addr.String() {
		t.Errorf("Snapshot() = %+v, want only %s", snap, b2.addr)
	}
}

func TestDeletedServiceClosesAllConnections(t *testing.T) {
	b1, b2 := startBackend(t, nil), startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b1.endpoint(), b2.endpoint()))
	waitHealth(t, sink, testKey, b1.addr.String(), model.HealthHealthy, time.Second)
	waitHealth(t, sink, testKey, b2.addr.String(), model.HealthHealthy, time.Second)

	c.Delete(testKey)
	waitFor(t, 2*time.Second, "all connections closed", func() bool { return b1.conns.Load()+b2.conns.Load() == 0 })
	c.Delete(testKey) // unknown now: not forwarded again
	if len(sink.deletes) != 1 || sink.deletes[0] != testKey {
		t.Errorf("deletes forwarded = %v, want [%v]", sink.deletes, testKey)
	}
}

// Unchecked endpoints open no connection; a checked service next to them
// shows that checks did run meanwhile.
func TestUncheckedEndpointsOpenNoConnection(t *testing.T) {
	off, draining, unhealthy, checked := startBackend(t, nil), startBackend(t, nil), startBackend(t, nil), startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))

	offSvc := model.Service{Key: model.ServiceKey{Namespace: "ns", Name: "off"}, GRPCServiceName: grpcService, Endpoints: []model.Endpoint{off.endpoint()}}
	c.Set(offSvc)
	d, u := draining.endpoint(), unhealthy.endpoint()
	d.Health, u.Health = model.HealthDraining, model.HealthUnhealthy
	c.Set(testService(d, u, checked.endpoint()))
	waitHealth(t, sink, testKey, checked.addr.String(), model.HealthHealthy, time.Second)

	for name, b := range map[string]*backend{"HealthCheck=false": off, "draining": draining, "unhealthy": unhealthy} {
		if n := b.conns.Load(); n != 0 {
			t.Errorf("%s endpoint has %d connections, want 0", name, n)
		}
	}
	if h, _ := sink.healthOf(testKey, d.HostPort()); h != model.HealthDraining {
		t.Errorf("draining endpoint forwarded as %v", h)
	}
	if h, _ := sink.healthOf(testKey, u.HostPort()); h != model.HealthUnhealthy {
		t.Errorf("unhealthy endpoint forwarded as %v", h)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !sink.sets[0].Equal(offSvc) {
		t.Errorf("HealthCheck=false service forwarded as %+v, want it unchanged", sink.sets[0])
	}
	for _, s := range sink.sets[1:] {
		if s.Key == offSvc.Key {
			t.Errorf("HealthCheck=false service forwarded again: %+v", s)
		}
	}
}

// checkOnlyHealth implements Check but not Watch, like older backends.
type checkOnlyHealth struct {
	healthpb.UnimplementedHealthServer
	serving atomic.Bool
	checks  atomic.Int64
}

func (h *checkOnlyHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.checks.Add(1)
	if h.serving.Load() {
		return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_NOT_SERVING}, nil
}

func TestWatchUnimplementedFallsBackToCheck(t *testing.T) {
	hs := &checkOnlyHealth{}
	hs.serving.Store(true)
	b := startBackend(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) })
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b.endpoint()))
	addr := b.addr.String()
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, time.Second)

	hs.serving.Store(false)
	took := waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	t.Logf("polled NOT_SERVING → UNHEALTHY in %v", took)
	hs.serving.Store(true)
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, 2*time.Second)
	if n := hs.checks.Load(); n < 3 {
		t.Errorf("Check called %d times, want polling", n)
	}
}

func TestBackendWithoutHealthServiceIsUnhealthy(t *testing.T) {
	b := startBackend(t, func(*grpc.Server) {})
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b.endpoint()))
	waitHealth(t, sink, testKey, b.addr.String(), model.HealthUnhealthy, time.Second)
	waitFor(t, time.Second, "detail names Unimplemented", func() bool {
		snap := c.Snapshot()
		return len(snap) == 1 && strings.Contains(snap[0].Detail, codes.Unimplemented.String())
	})
}

func TestGRPCServiceNameChangeRestartsChecks(t *testing.T) {
	b := startBackend(t, nil)
	c, sink := newTestChecker(t, testOptions(t))
	c.Set(testService(b.endpoint()))
	addr := b.addr.String()
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, time.Second)

	svc := testService(b.endpoint())
	svc.GRPCServiceName = "other"
	c.Set(svc)
	waitHealth(t, sink, testKey, addr, model.HealthUnhealthy, time.Second)
	b.health.SetServingStatus("other", healthpb.HealthCheckResponse_SERVING)
	waitHealth(t, sink, testKey, addr, model.HealthHealthy, 2*time.Second)
	waitFor(t, 2*time.Second, "old connection closed", func() bool { return b.conns.Load() == 1 })
}

func TestConcurrentUseAndCloseLeaveNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	backends := []*backend{startBackend(t, nil), startBackend(t, nil), startBackend(t, nil)}
	sink := &recordingSink{}
	c := NewChecker(sink, testOptions(t))

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				var eps []model.Endpoint
				for k, b := range backends {
					if (i+j+k)%2 == 0 {
						eps = append(eps, b.endpoint())
					}
				}
				svc := testService(eps...)
				svc.Key.Name = []string{"a", "b"}[i%2]
				c.Set(svc)
				_ = c.Snapshot()
				if j%7 == 0 {
					c.Delete(svc.Key)
				}
			}
		})
	}
	wg.Wait()
	c.Set(testService(backends[0].endpoint()))
	waitHealth(t, sink, testKey, backends[0].addr.String(), model.HealthHealthy, time.Second)
	sink.checkNoDuplicates(t)

	c.Close()
	c.Set(testService(backends[1].endpoint())) // ignored after Close
	for _, b := range backends {
		waitFor(t, 2*time.Second, "connections closed after Close", func() bool { return b.conns.Load() == 0 })
		b.server.Stop()
	}
	waitFor(t, 5*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
