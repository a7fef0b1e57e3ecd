package kxds

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// fakeSource reports the services it was built with, then (if sync) Synced,
// then waits, as a Kubernetes source does after its initial list.
type fakeSource struct {
	services []string
	sync     bool
}

func (f fakeSource) Run(ctx context.Context, sink source.Sink) error {
	for _, name := range f.services {
		sink.Set(model.Service{Key: model.ServiceKey{Namespace: "default", Name: name}})
	}
	if f.sync {
		sink.Synced()
	}
	<-ctx.Done()
	return nil
}

// eventLog records what reaches the registry, in order.
type eventLog struct {
	mu     sync.Mutex
	events []string
	synced chan struct{}
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}
func (l *eventLog) Set(s model.Service)       { l.add("set " + s.Key.Name) }
func (l *eventLog) Delete(k model.ServiceKey) { l.add("delete " + k.Name) }
func (l *eventLog) Synced()                   { l.add("synced"); l.synced <- struct{}{} }

// take returns the events so far and forgets them.
func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

func configOf(names ...string) *config.File {
	f := &config.File{}
	for _, n := range names {
		f.Services = append(f.Services, config.ServiceConfig{ServiceName: n, Namespace: "default"})
	}
	return f
}

// run starts a restartingSource on initial whose builds are given in order,
// one per config applied; it returns the log and a function that applies a
// config.
func run(t *testing.T, initial *config.File, builds ...fakeSource) (*eventLog, func(*config.File)) {
	t.Helper()
	i := 0
	build := func(*config.File) (source.Source, error) {
		if i == len(builds) {
			t.Fatalf("build %d: the test gave only %d", i+1, len(builds))
		}
		i++
		return builds[i-1], nil
	}
	r, err := newRestartingSource(initial, build, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{synced: make(chan struct{}, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, log); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return log, r.Update
}

func waitSynced(t *testing.T, l *eventLog) {
	t.Helper()
	select {
	case <-l.synced:
	case <-time.After(5 * time.Second):
		t.Fatal("no Synced within 5 s")
	}
}

// A restart withdraws only what the new run does not report, and only once
// it has synced: a service that stays (here "kept", and "annotated", dropped
// from the config but still served by its Kubernetes annotation) is never
// deleted, not even for a moment.
func TestRestartWithdrawsOnlyWhatTheNewRunDoesNotReport(t *testing.T) {
	log, apply := run(t, configOf("kept", "annotated", "dropped", "gone"),
		fakeSource{services: []string{"kept", "annotated", "dropped", "gone"}, sync: true},
		// "gone" was deleted in the cluster while no run was watching.
		fakeSource{services: []string{"kept", "annotated", "added"}, sync: true},
	)
	waitSynced(t, log)
	log.take()
	apply(configOf("kept", "added"))
	waitSynced(t, log)
	got := log.take()
	want := []string{"set kept", "set annotated", "set added", "delete dropped", "delete gone", "synced"}
	if len(got) == len(want) {
		slices.Sort(got[3:5]) // the two deletes come in map order
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the restart: %v, want %v", got, want)
	}
}

// Until the new run has synced (an API server that does not answer), every
// service the old run reported keeps being served.
func TestRestartKeepsServicesUntilTheNewRunSyncs(t *testing.T) {
	log, apply := run(t, configOf("a", "b"),
		fakeSource{services: []string{"a", "b"}, sync: true},
		fakeSource{services: []string{"a"}}, // never syncs
	)
	waitSynced(t, log)
	log.take()
	apply(configOf("a"))
	time.Sleep(200 * time.Millisecond)
	if got := log.take(); !slices.Equal(got, []string{"set a"}) {
		t.Fatalf("before the new run synced: %v, want only [set a]", got)
	}
}
