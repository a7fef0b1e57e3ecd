// Package dnssource discovers services from Kubernetes DNS SRV records. It
// needs no API access, for clusters where kxds has no RBAC to watch
// EndpointSlices.
package dnssource

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// maxParallelLookups bounds the services resolved at once in a round, to be
// gentle with the cluster's DNS.
const maxParallelLookups = 8

// Source resolves each wanted service's SRV record every Interval and Sets
// the service whenever its endpoints or port change. It never deletes: the
// wanted list is fixed.
//
//   - A record that does not exist (NXDOMAIN or no SRV data) means the
//     service has zero endpoints; it keeps its last known port, so that
//     clients' targets with a port keep resolving while it is scaled to zero.
//   - A failed lookup (SERVFAIL, timeout) keeps the service's last known
//     endpoints and is logged; other services are unaffected. A service
//     whose first lookup fails is Set with zero endpoints, so that after
//     Synced every wanted service exists.
//   - Service.Port is the SRV records' port when they all agree, else zero.
type Source struct {
	services []WantedService
	opts     Options
	log      *slog.Logger
	resolver resolver
}

var _ source.Source = (*Source)(nil)

// New checks the wanted services and returns a Source for them.
func New(services []WantedService, opts Options) (*Source, error) {
	opts = opts.withDefaults()
	seen := make(map[model.ServiceKey]int)
	for i, w := range services {
		if err := w.validate(); err != nil {
			return nil, fmt.Errorf("dnssource: services[%d] (%s): %w", i, w.key(), err)
		}
		if j, dup := seen[w.key()]; dup {
			return nil, fmt.Errorf("dnssource: services[%d]: %s is already services[%d]", i, w.key(), j)
		}
		seen[w.key()] = i
	}
	if opts.Server != "" {
		if _, _, err := net.SplitHostPort(opts.Server); err != nil {
			return nil, fmt.Errorf("dnssource: server %q: want host:port: %w", opts.Server, err)
		}
	}
	return &Source{services: services, opts: opts, log: opts.Logger, resolver: newResolver(opts.Server)}, nil
}

// Run implements source.Source. It calls Synced after the first round and
// returns nil when ctx ends.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	tracked := make([]trackedService, len(s.services))
	ticker := time.NewTicker(s.opts.Interval)
	defer ticker.Stop()
	for first := true; ; first = false {
		lookups := s.lookupAll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for i, w := range s.services {
			if svc, changed := tracked[i].apply(w, lookups[i], s.log); changed {
				sink.Set(svc.Clone())
			}
		}
		if first {
			sink.Synced()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// trackedService is what Run remembers of one service between rounds.
type trackedService struct {
	last    *model.Service // as last Set; nil before the first round
	failing bool
}

// apply folds a lookup into t and returns the service when it changed.
func (t *trackedService) apply(w WantedService, l serviceLookup, log *slog.Logger) (model.Service, bool) {
	log = log.With("service", w.key().String())
	switch {
	case l.err != nil && t.failing:
		log.Debug("dnssource: lookup still failing", "error", l.err)
	case l.err != nil:
		log.Warn("dnssource: lookup failed; keeping the last known endpoints until it succeeds", "error", l.err)
	case t.failing:
		log.Info("dnssource: lookup succeeds again", "endpoints", len(l.endpoints))
	}
	t.failing = l.err != nil
	if l.err != nil && t.last != nil {
		return model.Service{}, false
	}

	svc := model.Service{
		Key:             w.key(),
		Port:            l.port,
		GRPCServiceName: w.GRPCServiceName,
		Locality:        w.Locality,
		HealthCheck:     w.HealthCheck,
		Endpoints:       l.endpoints,
	}
	if len(l.endpoints) == 0 && t.last != nil {
		svc.Port = t.last.Port
	}
	if t.last != nil && t.last.Equal(svc) {
		return model.Service{}, false
	}
	t.last = &svc
	return svc, true
}

func (s *Source) lookupAll(ctx context.Context) []serviceLookup {
	out := make([]serviceLookup, len(s.services))
	slots := make(chan struct{}, maxParallelLookups)
	var wg sync.WaitGroup
	for i, w := range s.services {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			lctx, cancel := context.WithTimeout(ctx, s.opts.LookupTimeout)
			defer cancel()
			out[i] = lookupService(lctx, s.resolver, w, s.opts.ClusterDomain)
		})
	}
	wg.Wait()
	return out
}
