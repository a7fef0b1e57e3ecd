// Package e2e_test proves kxds' behaviour with real parts: the kxds server on
// loopback sockets, real echo backends, and real grpc-go xDS clients dialing
// xds:///… targets.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
)

// Two services served at once, to one client and to clients with other node IDs:
// the original prototype failed exactly here.
func TestManyServicesManyClients(t *testing.T) {
	be1a, be1b := startBackend(t, "be1-a"), startBackend(t, "be1-b")
	be2a, be2b := startBackend(t, "be2-a"), startBackend(t, "be2-b")
	cp := startControlPlane(t, service("be1-srv", be1a, be1b), service("be2-srv", be2a, be2b))

	for _, node := range []string{"frontend-1", "frontend-2", "some-other-node"} {
		client := cp.xdsClient(node)
		for _, tc := range []struct {
			target string
			want   []string
		}{
			{"be1-srv", []string{"be1-a", "be1-b"}},
			{"be2-srv", []string{"be2-a", "be2-b"}},
			{"be1-srv.default", []string{"be1-a", "be1-b"}},
			{"be2-srv.default.svc.cluster.local:50051", []string{"be2-a", "be2-b"}},
		} {
			c := dial(t, client, tc.target)
			// Round robin uses a backend once its connection is up: wait for all.
			eventually(t, 10*time.Second, func() error {
				counts := spread(t, c, 20)
				for host := range counts {
					if !slices.Contains(tc.want, host) {
						t.Fatalf("node %s, %s: reply from %s, want only %v", node, tc.target, host, tc.want)
					}
				}
				if len(counts) != len(tc.want) {
					return fmt.Errorf("node %s, %s: replies from %v, want all of %v", node, tc.target, counts, tc.want)
				}
				return nil
			})
		}
	}
	var clients struct {
		Clients []struct {
			NodeID string `json:"nodeId"`
			Types  map[string]struct {
				Subscribed   []string `json:"subscribed"`
				AckedVersion string   `json:"ackedVersion"`
			} `json:"types"`
		} `json:"clients"`
	}
	if err := cp.get("/debug/clients", &clients); err != nil {
		t.Fatal(err)
	}
	// grpc-go opens one ADS stream per channel target, so each node shows one
	// stream per target it dialed, each subscribed to that listener and ACKed.
	targets := map[string]map[string]bool{}
	for _, c := range clients.Clients {
		lds := c.Types["type.googleapis.com/envoy.config.listener.v3.Listener"]
		if lds.AckedVersion == "" {
			t.Errorf("client %s: listeners %v not ACKed", c.NodeID, lds.Subscribed)
		}
		if targets[c.NodeID] == nil {
			targets[c.NodeID] = map[string]bool{}
		}
		for _, name := range lds.Subscribed {
			targets[c.NodeID][name] = true
		}
	}
	if len(targets) != 3 {
		t.Errorf("/debug/clients shows nodes %v, want the 3 clients", targets)
	}
	for node, names := range targets {
		if len(names) != 4 {
			t.Errorf("node %s subscribed to %v, want the 4 targets it dialed", node, names)
		}
	}
}

func TestRoundRobinIsEven(t *testing.T) {
	var bs []*backend
	for i := range 4 {
		bs = append(bs, startBackend(t, fmt.Sprintf("pod-%d", i)))
	}
	cp := startControlPlane(t, service("be1-srv", bs...))
	c := dial(t, cp.xdsClient("rr"), "be1-srv")
	// Wait until all four are in use, then measure.
	eventually(t, 10*time.Second, func() error {
		if n := len(spread(t, c, 8)); n != 4 {
			return fmt.Errorf("%d backends in use", n)
		}
		return nil
	})
	counts := spread(t, c, 1000)
	for _, b := range bs {
		if n := counts[b.Hostname()]; n < 225 || n > 275 {
			t.Errorf("%s got %d of 1000 RPCs, want 250 ±10%% (all: %v)", b.Hostname(), n, counts)
		}
	}
}

// A backend added to the config gets traffic within 1 s; one removed gets none,
// and no RPC fails on the way.
func TestScaleUpAndDownLive(t *testing.T) {
	a, b, c := startBackend(t, "pod-a"), startBackend(t, "pod-b"), startBackend(t, "pod-c")
	cp := startControlPlane(t, service("be1-srv", a, b))
	client := dial(t, cp.xdsClient("scaler"), "be1-srv")
	spread(t, client, 10)

	// Keep traffic flowing through every change and count failures.
	var failed, total atomic.Int64
	var lastErr atomic.Value
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if _, err := hello(context.Background(), client); err != nil {
				failed.Add(1)
				lastErr.Store(err.Error())
			}
			total.Add(1)
		}
	}()

	start := time.Now()
	cp.writeConfig(service("be1-srv", a, b, c))
	eventually(t, 5*time.Second, func() error {
		if c.Served() == 0 {
			return fmt.Errorf("new backend has no traffic yet")
		}
		return nil
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("new backend got its first RPC %v after the config edit, want < 1s", took)
	}

	cp.writeConfig(service("be1-srv", b, c))
	// Once the client has applied the removal, a's count stops for good.
	eventually(t, 5*time.Second, func() error {
		before := a.Served()
		time.Sleep(200 * time.Millisecond)
		if a.Served() != before {
			return fmt.Errorf("removed backend still receives RPCs")
		}
		return nil
	})
	settled := a.Served()
	spread(t, client, 100)
	stop()
	wg.Wait()
	if a.Served() != settled {
		t.Errorf("removed backend received %d more RPCs", a.Served()-settled)
	}
	if failed.Load() != 0 {
		t.Errorf("%d of %d RPCs failed during scaling; last: %v", failed.Load(), total.Load(), lastErr.Load())
	}
	if total.Load() < 50 {
		t.Errorf("only %d RPCs ran during the test; it proves little", total.Load())
	}
}

// A target no service has fails at once and clearly, instead of after gRPC's
// 15 s resource timeout; once the service appears the same channel works.
func TestUnknownServiceFailsFast(t *testing.T) {
	be := startBackend(t, "late-pod")
	cp := startControlPlane(t, service("be1-srv", startBackend(t, "pod")))
	client := dial(t, cp.xdsClient("lost"), "no-such-srv")

	// grpc-go 1.85 words a listener that does not exist as "has been removed"
	// (C-core: "does not exist"). The first RPC may instead race the
	// resolver's empty update and read "produced zero addresses"; the error
	// that names the target follows within milliseconds, for every later RPC.
	start := time.Now()
	var err error
	for time.Since(start) < 2*time.Second {
		if _, err = hello(context.Background(), client); err == nil {
			t.Fatal("RPC to an unknown service succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, `"no-such-srv"`) &&
			(strings.Contains(msg, "does not exist") || strings.Contains(msg, "has been removed")) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("unknown service failed after %v, want < 2s", took)
	}
	if msg := err.Error(); !strings.Contains(msg, `"no-such-srv"`) ||
		!(strings.Contains(msg, "does not exist") || strings.Contains(msg, "has been removed")) {
		t.Errorf("error %q does not say that no-such-srv does not exist", err)
	}
	if got := cp.metric("kxds_unknown_target_requests_total"); got != "1" {
		t.Errorf("kxds_unknown_target_requests_total = %s, want 1", got)
	}
	t.Logf("unknown service failed in %v: %v", took, err)

	cp.writeConfig(service("be1-srv", startBackend(t, "pod")), service("no-such-srv", be))
	eventually(t, 10*time.Second, func() error {
		_, err := hello(context.Background(), client)
		return err
	})
}

// A bad edit is rejected with a metric and the last good config keeps serving;
// a good edit after it applies.
func TestBadConfigEditKeepsLastGood(t *testing.T) {
	a, b := startBackend(t, "pod-a"), startBackend(t, "pod-b")
	cp := startControlPlane(t, service("be1-srv", a))
	client := dial(t, cp.xdsClient("editor"), "be1-srv")
	spread(t, client, 5)

	for _, bad := range []string{
		`{"services": [`,
		`{"services": [{"serviceName": "be1-srv", "namespace": "default", "endpoints": ["not-an-address"]}]}`,
		`{"services": [{"serviceName": "be1-srv", "bogusField": 1}]}`,
	} {
		before := cp.metric(`kxds_config_reloads_total{result="error"}`)
		cp.writeRaw([]byte(bad))
		eventually(t, 5*time.Second, func() error {
			if got := cp.metric(`kxds_config_reloads_total{result="error"}`); got == before {
				return fmt.Errorf("error count still %s", got)
			}
			return nil
		})
		if counts := spread(t, client, 10); counts["pod-a"] != 10 {
			t.Fatalf("after bad edit %q: replies %v, want all from pod-a", bad, counts)
		}
	}
	cp.writeConfig(service("be1-srv", b))
	eventually(t, 5*time.Second, func() error {
		if host, err := hello(context.Background(), client); err != nil || host != "pod-b" {
			return fmt.Errorf("reply from %q (%v), want pod-b", host, err)
		}
		return nil
	})
}

// An invalid config at startup stops kxds with the file and the problem named.
func TestInvalidConfigAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc_config.json")
	if err := os.WriteFile(path, []byte(`{"services":[{"serviceName":"be1-srv","protocol":"sctp"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := kxds.Run(context.Background(), kxds.Options{XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ConfigPath: path, Discovery: config.ModeStatic})
	if err == nil || !strings.Contains(err.Error(), path+": services[0].protocol") {
		t.Errorf("error %v, want it to name %s and services[0].protocol", err, path)
	}
}
