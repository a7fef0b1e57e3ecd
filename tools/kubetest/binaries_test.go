package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// outcomeTB records how a helper ended the test instead of ending the real one.
type outcomeTB struct {
	testing.TB
	fatal, skip string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcomeTB) Skipf(format string, args ...any) {
	o.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runWithOutcome(t *testing.T, f func(testing.TB)) *outcomeTB {
	o := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return o
}

func TestStartWithoutBinariesFailsWithInstructions(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	t.Setenv(EnvSkip, "")
	o := runWithOutcome(t, func(tb testing.TB) { Start(tb) })
	if !strings.Contains(o.fatal, "tools/k8s-local/build.sh") || o.skip != "" {
		t.Errorf("Start without binaries: fatal %q, skip %q; want a failure naming tools/k8s-local/build.sh", o.fatal, o.skip)
	}

	t.Setenv(EnvSkip, "1")
	o = runWithOutcome(t, func(tb testing.TB) { Start(tb) })
	if o.skip == "" || o.fatal != "" {
		t.Errorf("Start with %s=1: fatal %q, skip %q; want a skip", EnvSkip, o.fatal, o.skip)
	}
}

func TestBinDirFollowsCurrentLink(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(EnvBinDir, "")
	t.Setenv(EnvCache, cache)
	if dir, err := BinDir(); err == nil {
		t.Fatalf("BinDir with an empty cache = %q; want an error", dir)
	}

	// The layout tools/k8s-local/build.sh leaves behind.
	bins := filepath.Join(cache, "k8s-bins")
	key := filepath.Join(bins, "k8s-vX_etcd-vY_go1_linux-amd64_0123")
	if err := os.MkdirAll(key, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(key), filepath.Join(bins, "current")); err != nil {
		t.Fatal(err)
	}
	if dir, err := BinDir(); err == nil {
		t.Fatalf("BinDir without .done = %q; want an error (build incomplete)", dir)
	}
	if err := os.WriteFile(filepath.Join(key, ".done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, err := BinDir(); err != nil || dir != key {
		t.Fatalf("BinDir = %q, %v; want %q", dir, err, key)
	}
	t.Setenv(EnvBinDir, "/somewhere/else")
	if dir, _ := BinDir(); dir != "/somewhere/else" {
		t.Fatalf("BinDir with %s set = %q; want /somewhere/else", EnvBinDir, dir)
	}
}
