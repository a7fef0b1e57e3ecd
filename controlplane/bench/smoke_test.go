package bench

import (
	"os"
	"testing"
	"time"

	"github.com/kxds/kxds/tools/kubetest"
)

// The server under test is this test binary re-executed (see child.go).
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole benchmark at a tiny size, for CI, through each
// source: a correctness test (every client converges, no update is lost,
// grpc-go accepts the config), not a timed one. Timings vary too much on
// shared machines.
func TestSmoke(t *testing.T) {
	for _, source := range []string{SourceSink, SourceStatic, SourceKubernetes} {
		t.Run(source, func(t *testing.T) {
			if source == SourceKubernetes {
				requireKubeBinaries(t)
			}
			smoke(t, source)
		})
	}
}

func smoke(t *testing.T, source string) {
	cfg := Config{
		Clients: 20, Services: 20, Endpoints: 3, PerClient: 5, StreamsPerConn: 7, Source: source,
		Changes: 20, ChurnRate: 50, ChurnDuration: time.Second,
		PhaseBudget: time.Minute, SanityChannels: 1,
		Impls: []string{"kxds", "baseline"}, Seed: 1, NoWarmUp: true,
	}
	if testing.Verbose() {
		cfg.Progress = os.Stderr
	}
	results, err := Run(cfg)
	if testing.Verbose() {
		WriteTable(os.Stdout, "smoke, source "+source, results)
	}
	if err != nil {
		t.Fatal(err)
	}
	wantSanity := "ok"
	if source == SourceKubernetes {
		wantSanity = "skipped" // loopback backends cannot be in an EndpointSlice
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
		if r.NACKs != 0 || r.Sanity != wantSanity {
			t.Errorf("%s: %d NACKs; grpc-go channels: %s, want %s", r.Impl, r.NACKs, r.Sanity, wantSanity)
		}
	}
}

// requireKubeBinaries skips when the Kubernetes binaries are missing and
// KXDS_SKIP_K8S_TESTS=1 (Bazel), as tools/kubetest does for its tests; with
// the binaries, or without that variable, the test runs (and fails clearly).
func requireKubeBinaries(t *testing.T) {
	if _, err := kubetest.BinDir(); err != nil && os.Getenv(kubetest.EnvSkip) == "1" {
		t.Skipf("%s=1: %v", kubetest.EnvSkip, err)
	}
}
