package e2e_test

import (
	"fmt"
	"testing"
	"time"
)

// A backend that reports NOT_SERVING stops getting RPCs within 1 s and gets
// them again once SERVING; a killed backend is dropped.
func TestHealthCheckingSteersTraffic(t *testing.T) {
	a, b, c := startBackend(t, "pod-a"), startBackend(t, "pod-b"), startBackend(t, "pod-c")
	cp := startControlPlane(t, service("be1-srv", a, b, c))
	client := dial(t, cp.xdsClient("health"), "be1-srv")
	eventually(t, 10*time.Second, func() error {
		if n := len(spread(t, client, 9)); n != 3 {
			return fmt.Errorf("%d of 3 backends in use", n)
		}
		return nil
	})

	start := time.Now()
	a.SetServing(false)
	stopped := waitUntilIdle(t, client, a)
	if took := stopped.Sub(start); took > time.Second {
		t.Errorf("NOT_SERVING backend kept getting RPCs for %v, want < 1s", took)
	}
	if counts := spread(t, client, 30); counts["pod-a"] != 0 {
		t.Errorf("NOT_SERVING backend still got RPCs: %v", counts)
	}

	a.SetServing(true)
	eventually(t, 10*time.Second, func() error {
		if spread(t, client, 9)["pod-a"] == 0 {
			return fmt.Errorf("recovered backend gets no RPCs")
		}
		return nil
	})

	start = time.Now()
	b.Stop()
	// RPCs may fail while the client notices the dead connection; the health
	// check must take the backend out for good within 1 s.
	eventually(t, 5*time.Second, func() error {
		var cfg struct {
			Services []struct {
				Endpoints []struct {
					Address string `json:"address"`
					Health  string `json:"health"`
				} `json:"endpoints"`
			} `json:"services"`
		}
		if err := cp.get("/debug/config", &cfg); err != nil {
			return err
		}
		for _, e := range cfg.Services[0].Endpoints {
			if e.Address == b.addr && e.Health != "UNHEALTHY" {
				return fmt.Errorf("killed backend is %s", e.Health)
			}
		}
		return nil
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("killed backend marked unhealthy after %v, want < 1s", took)
	}
	counts := spread(t, client, 30)
	if counts["pod-b"] != 0 || counts["pod-a"] == 0 || counts["pod-c"] == 0 {
		t.Errorf("after killing pod-b: %v, want pod-a and pod-c only", counts)
	}
}

// waitUntilIdle returns when b has not served an RPC for 20 consecutive calls.
func waitUntilIdle(t *testing.T, c echoClient, b *backend) time.Time {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		before := b.Served()
		at := time.Now()
		spread(t, c, 20)
		if b.Served() == before {
			return at
		}
	}
	t.Fatalf("%s still gets RPCs after 5s", b.Hostname())
	return time.Time{}
}
