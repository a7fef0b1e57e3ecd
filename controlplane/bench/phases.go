package bench

import (
	"errors"
	"fmt"
	"time"
)

// coldStart connects every client at once and waits until each has ACKed
// EDS for every service it dials (hence LDS, RDS and CDS before it).
func (r *run) coldStart(loaded serverStats) (*fleet, error) {
	ctx, cancel := r.budget()
	defer cancel()
	start := time.Now()
	f, err := startFleet(r.srv.addr, r.cfg.StreamsPerConn, r.tr)
	if err != nil {
		return nil, err
	}
	if err := r.tr.wait(ctx, r.tr.allConverged); err != nil {
		return f, fmt.Errorf("cold start: %d clients: %w", r.cfg.Clients, err)
	}
	r.res.ColdStart = time.Since(start)
	st, err := r.srv.stats(false)
	if err != nil {
		return f, err
	}
	r.res.ColdStartCPU = st.cpu - loaded.cpu
	r.cfg.logf("%s: cold start of %d clients: %v", r.res.Impl, r.cfg.Clients, r.res.ColdStart.Round(time.Millisecond))
	return f, nil
}

// propagation times changes one at a time: each from the moment it is sent
// to the server until its last subscriber ACKed it.
func (r *run) propagation() error {
	ctx, cancel := r.budget()
	defer cancel()
	before, err := r.srv.stats(false)
	if err != nil {
		return err
	}
	pushes := r.tr.responses.Load()
	n := 0
	for ; n < r.cfg.Changes && ctx.Err() == nil; n++ {
		if err := r.change(r.pick()); err != nil {
			return err
		}
		if err := r.tr.wait(ctx, r.tr.nothingPending); err != nil {
			if errors.Is(err, ctx.Err()) {
				// Out of budget in the middle of a change: it does not count.
				r.tr.takeLatencies()
				break
			}
			return err
		}
	}
	after, err := r.srv.stats(false)
	if err != nil {
		return err
	}
	lat := r.tr.takeLatencies()
	r.res.Propagation = newLatencies(lat)
	if len(lat) > 0 {
		r.res.CPUPerChange = (after.cpu - before.cpu) / time.Duration(len(lat))
		r.res.PushesPerChange = float64(r.tr.responses.Load()-pushes) / float64(len(lat))
	}
	r.cfg.logf("%s: %d changes timed: p50 %v p99 %v", r.res.Impl, len(lat), r.res.Propagation.Quantile(0.5), r.res.Propagation.Quantile(0.99))
	if len(lat) < r.cfg.Changes {
		return fmt.Errorf("only %d of %d changes within the %v budget", len(lat), r.cfg.Changes, r.cfg.PhaseBudget)
	}
	return nil
}
