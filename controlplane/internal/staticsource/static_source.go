// Package staticsource serves the endpoints listed in svc_config.json itself:
// discovery for local runs and tests, where there is no cluster.
package staticsource

import (
	"context"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// Source reports the services of the latest config given to Update.
type Source struct {
	updates chan *config.File
	current *config.File
}

var _ source.Source = (*Source)(nil)

// New starts from an already validated config.
func New(initial *config.File) *Source {
	return &Source{updates: make(chan *config.File, 1), current: initial}
}

// Update replaces the config; only the newest pending update is applied.
func (s *Source) Update(f *config.File) {
	for {
		select {
		case s.updates <- f:
			return
		default:
			select {
			case <-s.updates:
			default:
			}
		}
	}
}

// Run reports the initial services, marks them synced, then applies updates
// as the difference to the previous config: unchanged services cause no event.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	prev := map[model.ServiceKey]config.ServiceConfig{}
	apply := func(f *config.File) {
		next := make(map[model.ServiceKey]config.ServiceConfig, len(f.Services))
		for _, sc := range f.Services {
			next[sc.Key()] = sc
			if old, ok := prev[sc.Key()]; ok && old.Equal(sc) {
				continue
			}
			svc, err := sc.StaticService()
			if err != nil {
				// Parse already validated it; keep going with the rest.
				continue
			}
			sink.Set(svc)
		}
		for key := range prev {
			if _, ok := next[key]; !ok {
				sink.Delete(key)
			}
		}
		prev = next
	}
	apply(s.current)
	sink.Synced()
	for {
		select {
		case <-ctx.Done():
			return nil
		case f := <-s.updates:
			apply(f)
		}
	}
}
