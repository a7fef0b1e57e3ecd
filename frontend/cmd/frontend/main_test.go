package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kxds/kxds/echo/server"
)

var (
	buildOnce sync.Once
	binary    string // built by the test, removed by TestMain
	prebuilt  string // given by the build system
	buildErr  error
)

// frontendBinary builds this command once per test run: the tests exercise
// the real binary, environment checks, signals and exit codes included.
func frontendBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		// Under Bazel the binary is a data dependency (see BUILD.bazel).
		if p := os.Getenv("KXDS_TEST_BINARY"); p != "" {
			prebuilt = filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), p)
			return
		}
		dir, err := os.MkdirTemp("", "frontend-cmd-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "frontend")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out) + err.Error())
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	if prebuilt != "" {
		return prebuilt
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// command runs the binary without any xDS bootstrap in its environment,
// killing it when ctx ends.
func command(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, frontendBinary(t), args...)
	cmd.WaitDelay = time.Second
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRPC_XDS_BOOTSTRAP") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// runFrontend runs the binary to completion. Callers pass --addr=127.0.0.1:0
// so that a check that wrongly passes serves on a free loopback port until
// the timeout, instead of on :8080.
func runFrontend(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := command(ctx, t, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("running frontend %q: %v", args, err)
		return "", -1
	}
}

func TestHelpExitsZero(t *testing.T) {
	out, code := runFrontend(t, "--help")
	if code != 0 {
		t.Errorf("frontend --help exited %d, want 0:\n%s", code, out)
	}
	for _, flag := range []string{"-addr", "-target-template", "-rpc-timeout", "-rpcs"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not mention %s:\n%s", flag, out)
		}
	}
}

func TestBadInvocationsExitNonZeroWithReason(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantCode int
		wantText string
	}{
		{nil, 2, "kxds bootstrap > bootstrap.json"},
		{[]string{"--target-template=passthrough:///x"}, 2, "exactly one %s"},
		{[]string{"--target-template=passthrough:///%s", "--rpcs=0"}, 2, "--rpcs must be between 1 and 1000"},
		{[]string{"--target-template=passthrough:///%s", "--rpcs=1001"}, 2, "--rpcs must be between 1 and 1000"},
		{[]string{"--rpc-timeout=0s"}, 2, "must be positive"},
		{[]string{"--rpcs=many"}, 2, "invalid value"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--target-template=passthrough:///%s", "--addr=256.0.0.1:1"}, 1, "cannot listen on --addr"},
	} {
		out, code := runFrontend(t, append([]string{"--addr=127.0.0.1:0"}, tc.args...)...)
		if code != tc.wantCode || !strings.Contains(out, tc.wantText) {
			t.Errorf("frontend %q: exit %d with %q; want exit %d mentioning %q", tc.args, code, out, tc.wantCode, tc.wantText)
		}
	}
}

func TestServesThenExitsZeroOnSIGTERM(t *testing.T) {
	backend, err := server.NewBackend(server.Options{Hostname: "pod-a", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(lis)
	t.Cleanup(backend.Stop)

	cmd := command(t.Context(), t, "--addr=127.0.0.1:0", "--target-template=passthrough:///%s", "--rpcs=3")
	logs := &addrWatcher{addr: make(chan string, 1)}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var addr string
	select {
	case addr = <-logs.addr:
	case <-time.After(10 * time.Second):
		t.Fatalf("frontend never logged its address:\n%s", logs)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]string{
		"/healthz":                "ok\n",
		"/" + lis.Addr().String(): strings.Repeat("Hello unary RPC msg  from hostname pod-a\n", 3),
	} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("frontend after SIGTERM: %v, want exit 0\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("frontend still running 15s after SIGTERM\n%s", logs)
	}
}

// addrWatcher collects the command's log and picks out the address it serves
// on, which is only known once it has listened on port 0.
type addrWatcher struct {
	mu   sync.Mutex
	log  strings.Builder
	addr chan string
	seen bool
}

var listeningLine = regexp.MustCompile(`msg="frontend listening" addr=(\S+)`)

func (w *addrWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log.Write(p)
	if m := listeningLine.FindStringSubmatch(w.log.String()); m != nil && !w.seen {
		w.seen = true
		w.addr <- m[1]
	}
	return len(p), nil
}

func (w *addrWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}
