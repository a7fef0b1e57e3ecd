package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/echo/server"
	"github.com/kxds/kxds/protos/echo"
)

// passthrough lets a test name a backend by its address: GET /127.0.0.1:port.
const passthrough = "passthrough:///%s"

var quiet = slog.New(slog.DiscardHandler)

// startEcho runs a real echo backend on loopback and returns it and its
// address.
func startEcho(t *testing.T, hostname string) (*server.Backend, string) {
	t.Helper()
	b, err := server.NewBackend(server.Options{Hostname: hostname, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	lis := listen(t)
	go b.Serve(lis)
	t.Cleanup(b.Stop)
	return b, lis.Addr().String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

func newHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func get(h http.Handler, path, accept string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func lines(body string) []string {
	return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"template without %s": {TargetTemplate: "xds:///be1"},
		"negative timeout":    {RPCTimeout: -time.Second},
		"too many RPCs":       {DefaultRPCs: MaxRPCs + 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New(%+v) succeeded, want error", name, cfg)
		}
	}
}

func TestTextIsOneReplyLinePerRPC(t *testing.T) {
	backend, addr := startEcho(t, "pod-a")
	h := newHandler(t, Config{TargetTemplate: passthrough})

	w := get(h, "/"+addr+"?n=5", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	got := lines(w.Body.String())
	if len(got) != 5 {
		t.Fatalf("got %d lines, want 5:\n%s", len(got), w.Body)
	}
	for _, line := range got {
		if line != "Hello unary RPC msg  from hostname pod-a" {
			t.Errorf("line %q", line)
		}
	}
	if n := backend.Served(); n != 5 {
		t.Errorf("backend served %d RPCs, want 5", n)
	}

	if got := lines(get(h, "/"+addr, "").Body.String()); len(got) != DefaultRPCs {
		t.Errorf("without ?n= got %d lines, want %d", len(got), DefaultRPCs)
	}
}

func TestJSONCountsRepliesPerPod(t *testing.T) {
	_, addrA := startEcho(t, "pod-a")
	_, addrB := startEcho(t, "pod-b")
	// A resolver standing in for xDS: one service, two endpoints, round robin.
	r := manual.NewBuilderWithScheme("test")
	r.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: addrA}, {Addr: addrB}}})
	h := newHandler(t, Config{
		TargetTemplate: "test:///%s",
		DialOptions: []grpc.DialOption{
			grpc.WithResolvers(r),
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin": {}}]}`),
		},
	})

	// Round robin only uses endpoints once connected, so early requests may
	// all land on one pod.
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := get(h, "/be1-srv.default:50051?n=20&format=json", "")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if !strings.Contains(w.Body.String(), `"errors": []`) {
			t.Errorf("errors should be an empty list, not null: %s", w.Body)
		}
		var res Result
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("decoding %s: %v", w.Body, err)
		}
		if res.Service != "be1-srv.default:50051" || res.RPCs != 20 || res.Target != "test:///be1-srv.default:50051" {
			t.Errorf("result header = %q %d %q", res.Service, res.RPCs, res.Target)
		}
		if total := res.Counts["pod-a"] + res.Counts["pod-b"]; total != 20 || len(res.Counts) > 2 {
			t.Fatalf("counts %v, want 20 replies from pod-a and pod-b", res.Counts)
		}
		if res.Counts["pod-a"] > 0 && res.Counts["pod-b"] > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("round robin never reached both pods: %v", res.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHTMLBarChartEscapesPodNames(t *testing.T) {
	_, addr := startEcho(t, `<i>pod</i>&"x"`)
	h := newHandler(t, Config{TargetTemplate: passthrough})

	w := get(h, "/"+addr+"?n=4", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	body := w.Body.String()
	for _, want := range []string{`<div class="bar" style="width: 100%">4</div>`, `&lt;i&gt;pod&lt;/i&gt;&amp;&#34;x&#34;`, "4 of 4 RPCs"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<i>pod</i>") {
		t.Errorf("pod name not escaped:\n%s", body)
	}
	if w := get(h, "/"+addr+"?n=1&format=html", ""); !strings.Contains(w.Body.String(), `class="bar"`) {
		t.Errorf("?format=html did not give the chart: %s", w.Body)
	}
}

func TestRejectsBadRequests(t *testing.T) {
	h := newHandler(t, Config{TargetTemplate: passthrough})
	for _, path := range []string{
		"/be1?n=0", "/be1?n=1001", "/be1?n=-1", "/be1?n=abc", "/be1?n=", "/be1?n=1.5",
		"/Be1", "/be_1", "/-be1", "/be1-", "/be1..default", "/be1.", "/be1:0", "/be1:65536", "/be1:http", "/be1:", "/be1%2Fother",
		"/be1?format=xml",
	} {
		w := get(h, path, "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid") {
			t.Errorf("GET %s: %d %q, want 400 saying what is invalid", path, w.Code, w.Body)
		}
	}
	if w := get(h, "/be1/extra", ""); w.Code != http.StatusNotFound {
		t.Errorf("GET /be1/extra: %d, want 404", w.Code)
	}
	if h.Channels() != 0 {
		t.Errorf("bad requests created %d channels", h.Channels())
	}
}

func TestValidServiceNames(t *testing.T) {
	for _, name := range []string{"be1", "be1-srv", "be1-srv.default", "be1-srv.default:50051", "be1.default.svc.cluster.local", "127.0.0.1:8080", strings.Repeat("a", 63)} {
		if err := validateServiceName(name); err != nil {
			t.Errorf("validateServiceName(%q): %v", name, err)
		}
	}
	if err := validateServiceName(strings.Repeat("a", 64)); err == nil {
		t.Error("accepted a 64-character label")
	}
}

func TestUnreachableBackendFailsFastWith503(t *testing.T) {
	lis := listen(t)
	addr := lis.Addr().String()
	lis.Close() // nothing listens there any more: connections are refused

	h := newHandler(t, Config{TargetTemplate: passthrough, RPCTimeout: 10 * time.Second})
	start := time.Now()
	w := get(h, "/"+addr+"?format=json", "")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v; a refused connection should fail well before the RPC timeout", elapsed)
	}
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503: %s", w.Code, w.Body)
	}
	var res Result
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "code = Unavailable") || len(res.Counts) != 0 {
		t.Errorf("result = %+v, want one Unavailable error and no replies", res)
	}
}

func TestSilentBackendTimesOutWith504(t *testing.T) {
	// Accepts connections but never speaks HTTP/2, so RPCs wait for their
	// deadline.
	lis := listen(t)
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- conn
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		for conn := range accepted {
			conn.Close()
		}
	})

	h := newHandler(t, Config{TargetTemplate: passthrough, RPCTimeout: 200 * time.Millisecond})
	start := time.Now()
	w := get(h, "/"+lis.Addr().String(), "")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v; should stop after the first 200ms timeout", elapsed)
	}
	if w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), "code = DeadlineExceeded") {
		t.Errorf("got %d %q, want 504 with the DeadlineExceeded status", w.Code, w.Body)
	}
}

// flakyEcho answers the first ok calls, then fails.
type flakyEcho struct {
	echo.UnimplementedEchoServerServer
	ok    int64
	calls atomic.Int64
}

func (f *flakyEcho) SayHello(_ context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	if f.calls.Add(1) > f.ok {
		return nil, status.Error(codes.Internal, "backend broke")
	}
	return &echo.EchoReply{Message: server.Reply(req.GetName(), "pod-f")}, nil
}

func TestFailureStopsButKeepsEarlierReplies(t *testing.T) {
	s := grpc.NewServer()
	flaky := &flakyEcho{ok: 2}
	echo.RegisterEchoServerServer(s, flaky)
	lis := listen(t)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	h := newHandler(t, Config{TargetTemplate: passthrough})

	w := get(h, "/"+lis.Addr().String()+"?n=10", "")
	if w.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", w.Code)
	}
	want := []string{
		"Hello unary RPC msg  from hostname pod-f",
		"Hello unary RPC msg  from hostname pod-f",
		"error after 2 of 10 RPCs: rpc error: code = Internal desc = backend broke",
	}
	if got := lines(w.Body.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("body:\n%s\nwant:\n%s", w.Body, strings.Join(want, "\n"))
	}
	if n := flaky.calls.Load(); n != 3 {
		t.Errorf("made %d RPCs, want to stop at the first failure (3)", n)
	}
}

func TestChannelIsReusedAcrossRequests(t *testing.T) {
	_, addr := startEcho(t, "pod-a")
	_, other := startEcho(t, "pod-b")
	var dials atomic.Int64
	h := newHandler(t, Config{
		TargetTemplate: passthrough,
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		})},
	})

	for range 3 {
		if w := get(h, "/"+addr+"?n=3", ""); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if h.Channels() != 1 || dials.Load() != 1 {
		t.Errorf("3 requests to one service: %d channels, %d connections; want 1 and 1", h.Channels(), dials.Load())
	}
	get(h, "/"+other+"?n=1", "")
	if h.Channels() != 2 {
		t.Errorf("a second service should get its own channel: %d channels", h.Channels())
	}

	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if w := get(h, "/"+addr, ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d, want 503", w.Code)
	}
}

func TestUsageAndHealthz(t *testing.T) {
	h := newHandler(t, Config{})
	usage := get(h, "/", "")
	if usage.Code != http.StatusOK || !strings.Contains(usage.Body.String(), "GET /<service>") || !strings.Contains(usage.Body.String(), `"xds:///%s"`) {
		t.Errorf("GET /: %d\n%s", usage.Code, usage.Body)
	}
	if w := get(h, "/healthz", ""); w.Code != http.StatusOK || w.Body.String() != "ok\n" {
		t.Errorf("GET /healthz: %d %q", w.Code, w.Body)
	}
	r := httptest.NewRequest(http.MethodPost, "/be1", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /be1: %d, want 405", w.Code)
	}
}
