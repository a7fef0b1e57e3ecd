package kxds

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// restartingSource applies a new svc_config.json to a source that takes its
// service list only at construction (DNS, Kubernetes) by restarting it on the
// new list.
//
// A restart withdraws nothing up front. Until the new run has synced, clients
// keep what the old one reported; then exactly the services the new run did
// not report are withdrawn: those the new config dropped (unless the new run
// still serves them, e.g. through a Kubernetes annotation), and those that
// went away while no run was watching. The new run re-sends every service;
// the registry ignores the ones that did not change, so clients see only the
// real difference, and a service that stays is never briefly missing.
type restartingSource struct {
	build func(*config.File) (source.Source, error)
	log   *slog.Logger

	mu      sync.Mutex
	current *config.File
	updates chan struct{}
	// first is built from initial by newRestartingSource, which reports its
	// error; Run starts with it.
	first   source.Source
	initial *config.File
}

func newRestartingSource(initial *config.File, build func(*config.File) (source.Source, error), log *slog.Logger) (*restartingSource, error) {
	first, err := build(initial)
	if err != nil {
		return nil, err
	}
	return &restartingSource{build: build, log: log, current: initial, updates: make(chan struct{}, 1), first: first, initial: initial}, nil
}

// Update is the config watcher's callback.
func (r *restartingSource) Update(f *config.File) {
	r.mu.Lock()
	r.current = f
	r.mu.Unlock()
	select {
	case r.updates <- struct{}{}:
	default:
	}
}

func (r *restartingSource) Run(ctx context.Context, sink source.Sink) error {
	published := &publishedSet{sink: sink, keys: map[model.ServiceKey]bool{}}
	src, restarted := r.first, false
	for {
		if restarted {
			r.mu.Lock()
			f := r.current
			r.mu.Unlock()
			next, err := r.build(f)
			if err != nil {
				// Validated by config.Parse already; keep serving what we have.
				r.log.Error("cannot apply config", "err", err)
			} else {
				src = next
			}
		}
		restarted = true
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- src.Run(runCtx, published.newRun()) }()
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return nil
		case err := <-done:
			cancel()
			return err
		case <-r.updates:
			cancel()
			if err := <-done; err != nil {
				return err
			}
		}
	}
}

// publishedSet is what the runs of a restartingSource have reported to the
// sink and not withdrawn, across restarts.
type publishedSet struct {
	sink source.Sink
	mu   sync.Mutex
	keys map[model.ServiceKey]bool
}

func (p *publishedSet) newRun() *runSink {
	return &runSink{set: p, reported: map[model.ServiceKey]bool{}}
}

// runSink is one run's sink: it passes everything on and remembers what the
// run reported, so that its first Synced can withdraw what it did not.
type runSink struct {
	set      *publishedSet
	reported map[model.ServiceKey]bool
	synced   bool
}

func (s *runSink) Set(svc model.Service) {
	p := s.set
	p.mu.Lock()
	defer p.mu.Unlock()
	s.reported[svc.Key] = true
	p.keys[svc.Key] = true
	p.sink.Set(svc)
}

func (s *runSink) Delete(key model.ServiceKey) {
	p := s.set
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(s.reported, key)
	delete(p.keys, key)
	p.sink.Delete(key)
}

func (s *runSink) Synced() {
	p := s.set
	p.mu.Lock()
	defer p.mu.Unlock()
	if !s.synced {
		s.synced = true
		for key := range p.keys {
			if !s.reported[key] {
				delete(p.keys, key)
				p.sink.Delete(key)
			}
		}
	}
	p.sink.Synced()
}
