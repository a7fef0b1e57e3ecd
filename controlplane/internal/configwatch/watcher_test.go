package configwatch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kxds/kxds/controlplane/internal/config"
)

const (
	configA = `{"services":[{"serviceName":"a","endpoints":["127.0.0.1:50051"]}]}`
	configB = `{"services":[{"serviceName":"b","endpoints":["127.0.0.1:50052"]}]}`
)

// recorder collects what the watcher reports.
type recorder struct {
	mu       sync.Mutex
	applied  []string // service name of each applied version
	rejected []error
	changed  chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 100)} }

func (r *recorder) apply(f *config.File) {
	r.mu.Lock()
	r.applied = append(r.applied, f.Services[0].ServiceName)
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *recorder) reject(err error) {
	r.mu.Lock()
	r.rejected = append(r.rejected, err)
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *recorder) snapshot() ([]string, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.applied...), append([]error(nil), r.rejected...)
}

// start runs a watcher on dir/svc_config.json, which holds initial.
func start(t *testing.T, settle time.Duration, initial string) (path string, r *recorder) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "svc_config.json")
	if err := os.WriteFile(path, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	r = newRecorder()
	w := &Watcher{
		Path: path, Mode: config.ModeStatic, Apply: r.apply, Rejected: r.reject, Loaded: func(error) {},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Settle: settle,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Told that nothing was applied yet, the watcher applies the file on
		// the first event it sees: the handshake below.
		if err := w.Run(ctx, nil); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Run adds its inotify watch asynchronously and a write before that goes
	// unseen: touch another file until the watcher has read the initial one.
	probe := filepath.Join(filepath.Dir(path), "probe")
	for deadline := time.Now().Add(5 * time.Second); ; {
		if err := os.WriteFile(probe, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case <-r.changed:
			if applied, rejected := r.snapshot(); len(applied) != 1 || len(rejected) != 0 {
				t.Fatalf("handshake: applied %v, rejected %v", applied, rejected)
			}
			r.mu.Lock()
			r.applied = nil
			r.mu.Unlock()
			return path, r
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher noticed no change in 5 s")
		}
	}
}

// replace saves the file atomically, as editors and kubelet do.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitChange(t *testing.T, r *recorder, within time.Duration) {
	t.Helper()
	select {
	case <-r.changed:
	case <-time.After(within):
		t.Fatalf("nothing reported within %v", within)
	}
}

// wantOnlyConfigB waits for a report and checks that configB, and nothing
// else, was applied, and nothing rejected.
func wantOnlyConfigB(t *testing.T, r *recorder) {
	t.Helper()
	waitChange(t, r, 5*time.Second)
	applied, rejected := r.snapshot()
	if len(applied) != 1 || applied[0] != "b" || len(rejected) != 0 {
		t.Fatalf("applied %v, rejected %v; want [b] and nothing rejected", applied, rejected)
	}
}

// A valid save applies on its change event: with an hour-long Settle, any
// fixed delay before reading would make this time out.
func TestValidSaveAppliesWithoutDelay(t *testing.T) {
	path, r := start(t, time.Hour, configA)
	replace(t, path, configB)
	wantOnlyConfigB(t, r)
}

// A save that is not atomic is read half-written in between; only the
// complete file counts, and nothing is reported as rejected.
func TestHalfWrittenFileIsNotRejected(t *testing.T) {
	path, r := start(t, 2*time.Second, configA)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	half := len(configB) / 2
	if _, err := f.WriteString(configB[:half]); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	time.Sleep(200 * time.Millisecond) // the watcher reads the half file meanwhile
	if _, err := f.WriteString(configB[half:]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantOnlyConfigB(t, r)
}

// A file that stays invalid is rejected once, after Settle, and the next
// valid save applies.
func TestInvalidFileIsRejectedAfterSettle(t *testing.T) {
	path, r := start(t, 20*time.Millisecond, configA)
	replace(t, path, `{"services":[{"serviceName":"Bad"}]}`)
	waitChange(t, r, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // a second report would arrive meanwhile
	applied, rejected := r.snapshot()
	if len(applied) != 0 || len(rejected) != 1 {
		t.Fatalf("applied %v, rejected %v; want nothing applied, one rejection", applied, rejected)
	}
	replace(t, path, configB)
	waitChange(t, r, 5*time.Second)
	if applied, _ := r.snapshot(); len(applied) != 1 || applied[0] != "b" {
		t.Fatalf("applied %v after a valid save, want [b]", applied)
	}
}
