package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/xds"

	"github.com/kxds/kxds/controlplane/internal/bootstrap"
	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
	"github.com/kxds/kxds/echo/server"
	echopb "github.com/kxds/kxds/protos/echo"
)

// controlPlane is a real kxds serving on loopback, configured by a real file.
type controlPlane struct {
	t          *testing.T
	configPath string
	xdsAddr    string
	adminURL   string
}

type svcConfig = config.ServiceConfig

// startControlPlane runs kxds with static discovery until the test ends.
func startControlPlane(t *testing.T, services ...svcConfig) *controlPlane {
	t.Helper()
	return startControlPlaneWith(t, func(*kxds.Options) {}, services...)
}

// startControlPlaneWith lets a test change the options, e.g. the discovery mode.
func startControlPlaneWith(t *testing.T, modify func(*kxds.Options), services ...svcConfig) *controlPlane {
	t.Helper()
	cp := startControlPlaneNoWait(t, modify, services...)
	eventually(t, 30*time.Second, func() error {
		return cp.get("/readyz", nil)
	})
	return cp
}

// startControlPlaneNoWait does not wait for readiness.
func startControlPlaneNoWait(t *testing.T, modify func(*kxds.Options), services ...svcConfig) *controlPlane {
	t.Helper()
	cp := &controlPlane{t: t, configPath: filepath.Join(t.TempDir(), "svc_config.json")}
	cp.writeConfig(services...)
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	o := kxds.Options{
		XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ConfigPath: cp.configPath,
		Discovery: config.ModeStatic, ClusterDomain: "cluster.local", HealthCheck: true,
		Log:       slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Listening: func(x, a net.Addr) { addrs <- [2]net.Addr{x, a} },
	}
	modify(&o)
	go func() { done <- kxds.Run(ctx, o) }()
	select {
	case a := <-addrs:
		cp.xdsAddr, cp.adminURL = a[0].String(), "http://"+a[1].String()
	case err := <-done:
		t.Fatalf("kxds exited: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kxds: %v", err)
		}
	})
	return cp
}

// writeConfig replaces the file atomically, as editors and ConfigMaps do.
func (cp *controlPlane) writeConfig(services ...svcConfig) {
	cp.t.Helper()
	b, err := json.MarshalIndent(config.File{Services: services}, "", "  ")
	if err != nil {
		cp.t.Fatal(err)
	}
	cp.writeRaw(b)
}

func (cp *controlPlane) writeRaw(b []byte) {
	cp.t.Helper()
	tmp := cp.configPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		cp.t.Fatal(err)
	}
	if err := os.Rename(tmp, cp.configPath); err != nil {
		cp.t.Fatal(err)
	}
}

// get fetches an admin page; out, if not nil, receives the decoded JSON.
func (cp *controlPlane) get(path string, out any) error {
	resp, err := http.Get(cp.adminURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// metric returns the value of a metric line such as `kxds_services`.
func (cp *controlPlane) metric(name string) string {
	cp.t.Helper()
	resp, err := http.Get(cp.adminURL + "/metrics")
	if err != nil {
		cp.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	cp.t.Fatalf("metric %s not found", name)
	return ""
}

// xdsClient is an independent gRPC xDS client (its own bootstrap and node ID),
// as a separate process would have.
func (cp *controlPlane) xdsClient(nodeID string) resolver.Builder {
	cp.t.Helper()
	b, err := bootstrap.JSON(bootstrap.Options{Server: cp.xdsAddr, NodeID: nodeID, Zone: "us-central1-a", Region: "us-central1"})
	if err != nil {
		cp.t.Fatal(err)
	}
	r, err := xds.NewXDSResolverWithConfigForTesting(b)
	if err != nil {
		cp.t.Fatal(err)
	}
	return r
}

// dial opens a channel to xds:///target through the client.
func dial(t *testing.T, client resolver.Builder, target string) echopb.EchoServerClient {
	t.Helper()
	conn, err := grpc.NewClient("xds:///"+target, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(client))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return echopb.NewEchoServerClient(conn)
}

// backend is a real echo server on its own loopback address.
type backend struct {
	*server.Backend
	addr string
}

var nextIP atomic.Int32

// startBackend listens on a fresh 127.0.0.x address, like a pod of its own.
func startBackend(t *testing.T, hostname string) *backend {
	t.Helper()
	ip := fmt.Sprintf("127.0.0.%d", 20+nextIP.Add(1))
	lis, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.NewBackend(server.Options{Hostname: hostname})
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(lis)
	t.Cleanup(b.Stop)
	return &backend{Backend: b, addr: lis.Addr().String()}
}

func service(name string, backends ...*backend) svcConfig {
	s := svcConfig{
		ServiceName: name, Namespace: "default", PortName: "grpc", Protocol: "tcp",
		GRPCServiceName: "echo.EchoServer", Zone: "us-central1-a", Region: "us-central1",
		Port: 50051, Endpoints: []string{},
	}
	for _, b := range backends {
		s.Endpoints = append(s.Endpoints, b.addr)
	}
	return s
}

// hello makes one RPC and returns the hostname that answered.
func hello(ctx context.Context, c echopb.EchoServerClient) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := c.SayHello(ctx, &echopb.EchoRequest{Name: "e2e"})
	if err != nil {
		return "", err
	}
	_, host, ok := strings.Cut(r.GetMessage(), " from hostname ")
	if !ok {
		return "", fmt.Errorf("unexpected reply %q", r.GetMessage())
	}
	return host, nil
}

// spread makes n RPCs and counts replies per hostname; any failure is fatal.
func spread(t *testing.T, c echopb.EchoServerClient, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		host, err := hello(context.Background(), c)
		if err != nil {
			t.Fatalf("RPC %d: %v", i, err)
		}
		counts[host]++
	}
	return counts
}

// eventually retries f until it succeeds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type echoClient = echopb.EchoServerClient
