package kubesource

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// waitTimeout bounds every condition wait: events normally arrive in
// milliseconds, but a loaded 2-core CI machine can be slow.
const waitTimeout = 20 * time.Second

// recordingSink is a source.Sink that keeps the current state and a log of
// calls, and checks every service it receives.
type recordingSink struct {
	t  testing.TB
	mu sync.Mutex

	services map[model.ServiceKey]model.Service
	events   []string // "set ns/name", "delete ns/name", "synced"
	synced   bool
}

func newRecordingSink(t testing.TB) *recordingSink {
	return &recordingSink{t: t, services: map[model.ServiceKey]model.Service{}}
}

func (s *recordingSink) Set(svc model.Service) {
	if err := svc.Validate(); err != nil {
		s.t.Errorf("sink got an invalid service: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[svc.Key] = svc.Clone()
	s.events = append(s.events, "set "+svc.Key.String())
}

func (s *recordingSink) Delete(key model.ServiceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.services, key)
	s.events = append(s.events, "delete "+key.String())
}

func (s *recordingSink) Synced() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced = true
	s.events = append(s.events, "synced")
}

func (s *recordingSink) isSynced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

func (s *recordingSink) get(key model.ServiceKey) (model.Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[key]
	return svc.Clone(), ok
}

// eventsFor returns the calls that concerned key, in order.
func (s *recordingSink) eventsFor(key model.ServiceKey) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.events {
		if strings.HasSuffix(e, " "+key.String()) {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls until cond holds for the current state.
func (s *recordingSink) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.mu.Lock()
			state := fmt.Sprintf("synced=%v services=%v", s.synced, s.services)
			s.mu.Unlock()
			t.Fatalf("timed out after %v waiting for %s; sink state: %s", waitTimeout, what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitService waits until key is published and check(svc) returns "" (else
// the mismatch, shown on timeout).
func (s *recordingSink) waitService(t testing.TB, key model.ServiceKey, check func(model.Service) string) model.Service {
	t.Helper()
	var last string
	var got model.Service
	s.waitFor(t, fmt.Sprintf("service %s (last mismatch: %s)", key, &lazy{&last}), func() bool {
		svc, ok := s.get(key)
		if !ok {
			last = "not published"
			return false
		}
		got = svc
		last = check(svc)
		return last == ""
	})
	return got
}

// waitGone waits until key is not published.
func (s *recordingSink) waitGone(t testing.TB, key model.ServiceKey) {
	t.Helper()
	s.waitFor(t, "service "+key.String()+" to be deleted", func() bool {
		_, ok := s.get(key)
		return !ok
	})
}

type lazy struct{ s *string }

func (l *lazy) String() string { return *l.s }

// endpointsAre is a check for waitService: exactly these "addr:port HEALTH" strings.
func endpointsAre(want ...string) func(model.Service) string {
	slices.Sort(want)
	return func(svc model.Service) string {
		got := describeEndpoints(svc)
		if !slices.Equal(got, want) {
			return fmt.Sprintf("endpoints %v, want %v", got, want)
		}
		return ""
	}
}

func describeEndpoints(svc model.Service) []string {
	got := make([]string, len(svc.Endpoints))
	for i, e := range svc.Endpoints {
		got[i] = e.HostPort() + " " + e.Health.String()
	}
	slices.Sort(got)
	return got
}

// problemLog records OnProblem calls.
type problemLog struct {
	mu       sync.Mutex
	problems []Problem
}

func (p *problemLog) add(pr Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, pr)
}

func (p *problemLog) count(key model.ServiceKey, reason Reason) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, pr := range p.problems {
		if pr.Service == key && pr.Reason == reason {
			n++
		}
	}
	return n
}

// logWatcher is a slog handler that writes to the test log and lets a test
// wait for a message.
type logWatcher struct {
	slog.Handler
	mu   *sync.Mutex
	msgs *[]string
}

func newLogWatcher(t testing.TB) *logWatcher {
	return &logWatcher{
		Handler: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}),
		mu:      &sync.Mutex{}, msgs: new([]string),
	}
}

func (h *logWatcher) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

func (h *logWatcher) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logWatcher{Handler: h.Handler.WithAttrs(attrs), mu: h.mu, msgs: h.msgs}
}

func (h *logWatcher) WithGroup(name string) slog.Handler {
	return &logWatcher{Handler: h.Handler.WithGroup(name), mu: h.mu, msgs: h.msgs}
}

func (h *logWatcher) count(substr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range *h.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// startSource runs a Source until the test ends, with logs in the test output
// and problems recorded.
func startSource(t testing.TB, opts Options) (*recordingSink, *problemLog, *logWatcher) {
	t.Helper()
	logs := newLogWatcher(t)
	problems := &problemLog{}
	opts.Logger = slog.New(logs)
	opts.OnProblem = problems.add
	src, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sink := newRecordingSink(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, sink) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v; want nil after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of cancel")
		}
	})
	return sink, problems, logs
}
