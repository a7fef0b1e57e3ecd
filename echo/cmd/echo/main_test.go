package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kxds/kxds/protos/echo"
)

var (
	buildOnce sync.Once
	binary    string // built by the test, removed by TestMain
	prebuilt  string // given by the build system
	buildErr  error
)

// echoBinary builds this command once per test run: the tests exercise the
// real binary, signals and exit codes included.
func echoBinary(t *testing.T) string {
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
		dir, err := os.MkdirTemp("", "echo-cmd-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "echo")
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

func runEcho(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, echoBinary(t), args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("running echo %q: %v", args, err)
		return "", -1
	}
}

func TestHelpExitsZero(t *testing.T) {
	out, code := runEcho(t, "--help")
	if code != 0 {
		t.Errorf("echo --help exited %d, want 0:\n%s", code, out)
	}
	for _, flag := range []string{"-addr", "-hostname", "-drain"} {
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
		{[]string{"--drain=-1s"}, 2, "--drain must not be negative"},
		{[]string{"--drain=soon"}, 2, "invalid value"},
		{[]string{"--hostname="}, 2, "--hostname is empty"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--addr=256.0.0.1:1"}, 1, "cannot listen on --addr"},
	} {
		// A loopback port, so that a check that wrongly passes does not
		// serve on :50051 until the timeout.
		out, code := runEcho(t, append([]string{"--addr=127.0.0.1:0"}, tc.args...)...)
		if code != tc.wantCode || !strings.Contains(out, tc.wantText) {
			t.Errorf("echo %q: exit %d with %q; want exit %d mentioning %q", tc.args, code, out, tc.wantCode, tc.wantText)
		}
	}
}

func TestSIGTERMDrainsThenExitsZero(t *testing.T) {
	const drain = 500 * time.Millisecond
	cmd := exec.Command(echoBinary(t), "--addr=127.0.0.1:0", "--hostname=pod-x", "--drain="+drain.String())
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
		t.Fatalf("echo never logged its address:\n%s", logs)
	}

	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	reply, err := echo.NewEchoServerClient(conn).SayHello(ctx, &echo.EchoRequest{Name: "unary RPC msg "})
	if err != nil {
		t.Fatalf("SayHello: %v", err)
	}
	if want := "Hello unary RPC msg  from hostname pod-x"; reply.GetMessage() != want {
		t.Errorf("reply %q, want %q", reply.GetMessage(), want)
	}
	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: "echo.EchoServer"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("initial health: %v, %v; want SERVING", resp, err)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after SIGTERM: %v, %v; want NOT_SERVING", resp, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("echo after SIGTERM: %v, want exit 0\n%s", err, logs)
	}
	if elapsed := time.Since(start); elapsed < drain {
		t.Errorf("echo exited %v after SIGTERM, before its %v drain", elapsed, drain)
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

var listeningLine = regexp.MustCompile(`msg="echo backend serving".* addr=(\S+)`)

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
