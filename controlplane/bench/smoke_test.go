package bench

import (
	"os"
	"testing"
	"time"
)

// The server under test is this test binary re-executed (see child.go).
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole benchmark at a tiny size, for CI: a correctness
// test (every client converges, no update is lost, grpc-go accepts the
// config), not a timed one. Timings vary too much on shared machines.
func TestSmoke(t *testing.T) {
	cfg := Config{
		Clients: 20, Services: 20, Endpoints: 3, PerClient: 5, StreamsPerConn: 7,
		Changes: 20, ChurnRate: 50, ChurnDuration: time.Second,
		PhaseBudget: time.Minute, SanityChannels: 1,
		Impls: []string{"kxds", "baseline"}, Seed: 1, NoWarmUp: true,
	}
	if testing.Verbose() {
		cfg.Progress = os.Stderr
	}
	results, err := Run(cfg)
	if testing.Verbose() {
		WriteTable(os.Stdout, "smoke", results)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if len(r.Errors) > 0 {
			t.Errorf("%s: %v", r.Impl, r.Errors)
		}
		if len(r.Propagation) != cfg.Changes {
			t.Errorf("%s: %d of %d changes reached every subscriber", r.Impl, len(r.Propagation), cfg.Changes)
		}
		if r.ChurnSent == 0 || r.Lost != 0 {
			t.Errorf("%s: churn sent %d changes, %d (client, service) pairs differ from the model", r.Impl, r.ChurnSent, r.Lost)
		}
		if r.NACKs != 0 || r.Sanity != "ok" {
			t.Errorf("%s: %d NACKs; grpc-go channels: %s", r.Impl, r.NACKs, r.Sanity)
		}
	}
}
