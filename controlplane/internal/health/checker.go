// Package health actively checks the endpoints of services that ask for it,
// with grpc.health.v1, and feeds the result into the endpoints' Health on
// their way from a source to the rest of kxds.
package health

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// Checker is a source.Sink decorator. For each service with HealthCheck set it
// watches every endpoint the source considers serving (Health Unknown or
// Healthy) over one connection per endpoint, and forwards the service with
// those endpoints' Health replaced by the check's verdict. Endpoints the
// source already calls Unhealthy or Draining are not checked and pass through
// as they are: the source knows the pod is going away, and a check could only
// bring it back wrongly.
//
// Services without HealthCheck pass through unchanged. A service is forwarded
// only when what it forwards changes. Synced is forwarded at once: unchecked
// endpoints are Unknown, which clients use.
type Checker struct {
	next  source.Sink
	opts  Options
	log   *slog.Logger
	dials dialLimiter

	ctx    context.Context // parent of every probe; ended by Close
	cancel context.CancelFunc
	probes sync.WaitGroup

	// mu guards the fields below and is held while forwarding, so that the
	// next sink sees changes in the order they were decided.
	mu       sync.Mutex
	closed   bool
	services map[model.ServiceKey]*checkedService
}

var _ source.Sink = (*Checker)(nil)

// NewChecker returns a Checker forwarding to next. Call Close to stop its
// checks.
func NewChecker(next source.Sink, opts Options) *Checker {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Checker{
		next:     next,
		opts:     opts,
		log:      opts.Logger,
		dials:    newDialLimiter(opts.MaxConcurrentDials),
		ctx:      ctx,
		cancel:   cancel,
		services: make(map[model.ServiceKey]*checkedService),
	}
}

// checkedService is what the Checker knows about one service.
type checkedService struct {
	fromSource model.Service
	forwarded  *model.Service // nil until first forwarded
	checks     map[string]*endpointCheck
}

// endpointCheck is one running probe and its latest verdict.
type endpointCheck struct {
	cancel      context.CancelFunc
	grpcService string
	health      model.HealthStatus
	detail      string
	since       time.Time
}

// Set implements source.Sink.
func (c *Checker) Set(svc model.Service) {
	svc = svc.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	cs := c.services[svc.Key]
	if cs == nil {
		cs = &checkedService{checks: make(map[string]*endpointCheck)}
		c.services[svc.Key] = cs
	}
	cs.fromSource = svc

	want := make(map[string]bool)
	if svc.HealthCheck {
		for _, e := range svc.Endpoints {
			if e.Health.Serving() {
				want[e.HostPort()] = true
			}
		}
	}
	for addr, ck := range cs.checks {
		if !want[addr] || ck.grpcService != svc.GRPCServiceName {
			ck.cancel()
			delete(cs.checks, addr)
		}
	}
	for addr := range want {
		if cs.checks[addr] == nil {
			cs.checks[addr] = c.startCheck(svc.Key, addr, svc.GRPCServiceName)
		}
	}
	c.forwardLocked(cs)
}

// Delete implements source.Sink.
func (c *Checker) Delete(key model.ServiceKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.services[key]
	if c.closed || cs == nil {
		return
	}
	for _, ck := range cs.checks {
		ck.cancel()
	}
	delete(c.services, key)
	if cs.forwarded != nil {
		c.next.Delete(key)
	}
}

// Synced implements source.Sink.
func (c *Checker) Synced() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.next.Synced()
	}
}

// Close stops every check, waits until their connections are closed, and
// makes later Set, Delete and Synced calls no-ops: the pipeline is shutting
// down, and forwarding without checks would publish unchecked endpoints.
func (c *Checker) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.probes.Wait()
}

func (c *Checker) startCheck(key model.ServiceKey, addr, grpcService string) *endpointCheck {
	ctx, cancel := context.WithCancel(c.ctx)
	ck := &endpointCheck{cancel: cancel, grpcService: grpcService, health: model.HealthUnknown, detail: "starting", since: time.Now()}
	log := c.log.With("service", key.String(), "endpoint", addr)
	p := &probe{
		addr:        addr,
		grpcService: grpcService,
		opts:        c.opts,
		dials:       c.dials,
		log:         log,
		report: func(h model.HealthStatus, detail string) {
			c.update(key, addr, ck, h, detail, log)
		},
	}
	c.probes.Add(1)
	go func() {
		defer c.probes.Done()
		p.run(ctx)
	}()
	return ck
}

// update records a probe's verdict, unless the probe was stopped meanwhile.
func (c *Checker) update(key model.ServiceKey, addr string, ck *endpointCheck, h model.HealthStatus, detail string, log *slog.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.services[key]
	if c.closed || cs == nil || cs.checks[addr] != ck {
		return
	}
	ck.detail = detail
	if ck.health == h {
		return
	}
	log.Info("health: endpoint changed", "from", ck.health, "to", h, "detail", detail)
	ck.health, ck.since = h, time.Now()
	c.forwardLocked(cs)
}

func (c *Checker) forwardLocked(cs *checkedService) {
	svc := cs.effective()
	if cs.forwarded != nil && cs.forwarded.Equal(svc) {
		return
	}
	cs.forwarded = &svc
	c.next.Set(svc.Clone())
}

// effective is the service as forwarded: the source's, with checked
// endpoints' Health replaced by the verdict.
func (cs *checkedService) effective() model.Service {
	svc := cs.fromSource.Clone()
	for i := range svc.Endpoints {
		if ck := cs.checks[svc.Endpoints[i].HostPort()]; ck != nil {
			svc.Endpoints[i].Health = ck.health
		}
	}
	return svc
}
