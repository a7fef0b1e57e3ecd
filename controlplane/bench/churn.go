package bench

import (
	"fmt"
	"time"
)

// churn sends changes at a steady rate, as a busy cluster does, then checks
// that every client ended with exactly the model: no update lost.
//
// It is open-loop (the rate does not wait for ACKs) but never lets the server
// fall more than a tenth of a second of changes behind (at least 2): a design
// that cannot keep up sees ticks skipped, which shows as a lower achieved
// rate, instead of an unbounded backlog that would outlast the run.
func (r *run) churn() error {
	cfg := r.cfg
	before, err := r.srv.stats(false)
	if err != nil {
		return err
	}
	window := max(2, int64(cfg.ChurnRate/10))
	interval := time.Duration(float64(time.Second) / cfg.ChurnRate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	deadline := start.Add(cfg.ChurnDuration)
	first := r.sent
	for now := range tick.C {
		if now.After(deadline) {
			break
		}
		if r.sent-r.srv.applied.Load() >= window {
			r.res.ChurnSkipped++
			continue
		}
		if err := r.change(r.pick()); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	r.res.ChurnSent = int(r.sent - first)
	r.res.ChurnRate = float64(r.res.ChurnSent) / elapsed.Seconds()

	// Settle: the server takes the rest, every subscriber ACKs it.
	if err := r.srv.sync(); err != nil {
		return err
	}
	waitErr := r.settle()
	after, err := r.srv.stats(false)
	if err != nil {
		return err
	}
	r.res.ChurnCPU = after.cpu - before.cpu
	r.res.ChurnLatency = newLatencies(r.tr.takeLatencies())
	r.res.Lost = r.tr.mismatches(r.latest, cfg.Endpoints)
	r.cfg.logf("%s: churn: %d changes at %.1f/s (%d skipped), lost %d", r.res.Impl, r.res.ChurnSent, r.res.ChurnRate, r.res.ChurnSkipped, r.res.Lost)
	if waitErr != nil {
		return waitErr
	}
	if r.res.Lost > 0 {
		return fmt.Errorf("%d (client, service) pairs differ from the model", r.res.Lost)
	}
	return nil
}
