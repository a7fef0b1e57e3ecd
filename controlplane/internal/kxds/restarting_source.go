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
// service list only at construction (DNS, Kubernetes): it withdraws the
// services the new config dropped and restarts the source on the new list.
// The restarted source re-sends every service; the registry ignores the ones
// that did not change, so clients see only the real difference.
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
	var applied *config.File
	for {
		f, src, err := r.initial, r.first, error(nil)
		if applied != nil {
			r.mu.Lock()
			f = r.current
			r.mu.Unlock()
			src, err = r.build(f)
		}
		if err != nil {
			// Validated by config.Parse already; keep serving what we have.
			r.log.Error("cannot apply config", "err", err)
		} else {
			if applied != nil {
				withdrawDropped(applied, f, sink)
			}
			applied = f
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		if src != nil {
			go func() { done <- src.Run(runCtx, sink) }()
		}
		select {
		case <-ctx.Done():
			cancel()
			if src != nil {
				<-done
			}
			return nil
		case err := <-done:
			cancel()
			return err
		case <-r.updates:
			cancel()
			if src != nil {
				if err := <-done; err != nil {
					return err
				}
			}
		}
	}
}

func withdrawDropped(old, next *config.File, sink source.Sink) {
	keep := map[model.ServiceKey]bool{}
	for _, s := range next.Services {
		keep[s.Key()] = true
	}
	for _, s := range old.Services {
		if !keep[s.Key()] {
			sink.Delete(s.Key())
		}
	}
}
