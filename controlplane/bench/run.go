package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Run measures each implementation in cfg.Impls in turn, in this process and
// with the same clients, model and sequence of changes.
func Run(cfg Config) ([]Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var sanity *sanityBackends
	if cfg.SanityChannels > 0 {
		var err error
		if sanity, err = startSanityBackends(2); err != nil {
			return nil, err
		}
		defer sanity.stop()
	}
	if !cfg.NoWarmUp {
		cfg.logf("warming up: %d clients against a throwaway server", cfg.Clients)
		if err := warmUp(cfg); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	var out []Result
	for _, impl := range cfg.Impls {
		r, err := runOne(cfg, impl, sanity)
		if err != nil {
			return out, fmt.Errorf("%s: %w", impl, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// run is one implementation's pass through the phases.
type run struct {
	cfg    Config
	res    *Result
	srv    *serverProc
	feed   feeder
	tr     *tracker
	latest []int // generation of each service in the model
	sent   int64 // changes sent to the server
	dialed []int // services with at least one subscriber: what changes hit
	rng    *rand.Rand
}

func runOne(cfg Config, impl string, sanity *sanityBackends) (Result, error) {
	res := Result{Impl: impl}
	var addrs []string
	if sanity != nil {
		addrs = sanity.addrs
	}
	feed, err := newFeeder(cfg, addrs)
	if err != nil {
		return res, fmt.Errorf("source %s: %w", cfg.Source, err)
	}
	defer feed.close()
	// The child outlives no plausible run by much.
	lifetime := 6*cfg.PhaseBudget + cfg.ChurnDuration + 10*time.Minute
	srv, err := startServer(impl, cfg.Endpoints, lifetime, cfg.ProfileDir, feed.childArgs())
	if err != nil {
		return res, err
	}
	defer srv.close()
	r := &run{
		cfg: cfg, res: &res, srv: srv, feed: feed,
		tr:     newTracker(targetsOf(cfg.Clients, cfg.PerClient, cfg.span()), cfg.Services),
		latest: make([]int, cfg.Services),
		// The same seed for every implementation: the same changes.
		rng: rand.New(rand.NewPCG(cfg.Seed, 1)),
	}
	for s, subs := range r.tr.subs {
		if len(subs) > 0 {
			r.dialed = append(r.dialed, s)
		}
	}
	cfg.logf("%s: server pid %d on %s; loading %d services × %d endpoints through %s", impl, srv.cmd.Process.Pid, srv.addr, cfg.Services, cfg.Endpoints, cfg.Source)

	empty, err := srv.stats(true)
	if err != nil {
		return res, err
	}
	if err := feed.load(srv); err != nil {
		return res, err
	}
	loaded, err := srv.stats(true)
	if err != nil {
		return res, err
	}
	res.RSSPerServiceKB = float64(loaded.rssKB-empty.rssKB) / float64(cfg.Services)
	res.HeapPerServiceKB = float64(loaded.heap-empty.heap) / 1024 / float64(cfg.Services)

	f, err := r.coldStart(loaded)
	if f != nil {
		defer f.stop()
	}
	if err != nil {
		return res, err
	}
	held, err := srv.stats(true)
	if err != nil {
		return res, err
	}
	res.RSSPerClientKB = float64(held.rssKB-loaded.rssKB) / float64(cfg.Clients)
	res.HeapPerClientKB = float64(held.heap-loaded.heap) / 1024 / float64(cfg.Clients)
	res.StackPerClientKB = float64(held.stack-loaded.stack) / 1024 / float64(cfg.Clients)
	res.GoroutinesPerClient = float64(held.goroutines-loaded.goroutines) / float64(cfg.Clients)

	if cfg.ProfileDir != "" {
		if err := srv.profile("heap"); err != nil {
			return res, err
		}
		if err := srv.profile("cpu-start"); err != nil {
			return res, err
		}
	}
	res.Sanity = "skipped"
	if cfg.SanityChannels > 0 && !feed.sanity() {
		res.Notes = append(res.Notes, "sanity: skipped; an EndpointSlice cannot hold the loopback addresses of the echo backends "+
			"(the e2e tests check real grpc-go clients against the Kubernetes source)")
	}
	if cfg.SanityChannels > 0 && feed.sanity() {
		res.Sanity = "ok"
		if err := sanityCheck(srv.addr, cfg.SanityChannels); err != nil {
			res.Sanity = err.Error()
			res.Errors = append(res.Errors, "sanity: "+err.Error())
		}
	}
	if err := r.propagation(); err != nil {
		res.Errors = append(res.Errors, "propagation: "+err.Error())
	}
	if cfg.ChurnDuration > 0 && cfg.ChurnRate > 0 {
		if err := r.churn(); err != nil {
			res.Errors = append(res.Errors, "churn: "+err.Error())
		}
	}
	if cfg.ProfileDir != "" {
		if err := srv.profile("cpu-stop"); err != nil {
			return res, err
		}
	}
	final, err := srv.stats(false)
	if err != nil {
		return res, err
	}
	res.NACKs = final.nacks
	return res, nil
}

// pick chooses a service that clients dial: a change nobody watches
// measures nothing.
func (r *run) pick() int { return r.dialed[r.rng.IntN(len(r.dialed))] }

// change bumps service s, registers it with the tracker and sends it.
func (r *run) change(s int) error {
	r.latest[s]++
	r.tr.expect(s, r.latest[s], time.Now())
	r.sent++
	return r.feed.change(r.srv, s, r.latest[s])
}

func (r *run) budget() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.cfg.PhaseBudget)
}
