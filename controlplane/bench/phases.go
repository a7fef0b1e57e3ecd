package bench

import (
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
	sent := 0
	for sent < r.cfg.Changes && ctx.Err() == nil {
		if err := r.change(r.pick()); err != nil {
			return err
		}
		sent++
		if err := r.tr.wait(ctx, r.tr.nothingPending); err != nil && ctx.Err() == nil {
			return err
		}
	}
	// A change the budget cut short still counts: let it finish.
	if err := r.settle(); err != nil {
		return err
	}
	after, err := r.srv.stats(false)
	if err != nil {
		return err
	}
	r.res.Propagation = newLatencies(r.tr.takeLatencies())
	r.res.CPUPerChange = (after.cpu - before.cpu) / time.Duration(sent)
	r.res.PushesPerChange = float64(r.tr.responses.Load()-pushes) / float64(sent)
	r.cfg.logf("%s: %d changes timed: p50 %v p99 %v", r.res.Impl, len(r.res.Propagation), r.res.Propagation.Quantile(0.5), r.res.Propagation.Quantile(0.99))
	if sent < r.cfg.Changes {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("propagation: %d of %d changes within the %v budget", sent, r.cfg.Changes, r.cfg.PhaseBudget))
	}
	return nil
}

// settle waits, within a fresh budget, until every change sent so far has
// reached every subscriber.
func (r *run) settle() error {
	ctx, cancel := r.budget()
	defer cancel()
	if err := r.tr.wait(ctx, r.tr.nothingPending); err != nil {
		return fmt.Errorf("%d changes not ACKed by every subscriber after %v: %w", r.tr.pendingCount(), r.cfg.PhaseBudget, err)
	}
	return nil
}
