package bench

import (
	"context"
	"time"
)

// warmUp connects the whole fleet once to a throwaway kxds and discards the
// result. The first fleet a process starts pays for growing its heap and
// goroutine stacks; without this, that cost would land on whichever design
// is measured first (it made kxds' cold start look slower than the baseline's
// at 10,000 clients). Each design still gets a fresh server process.
func warmUp(cfg Config) error {
	// Always fed directly: only the clients are being warmed up.
	srv, err := startServer("kxds", cfg.Endpoints, cfg.PhaseBudget+time.Minute, "", "-source "+SourceSink)
	if err != nil {
		return err
	}
	defer srv.close()
	if err := srv.load(cfg.Services, nil); err != nil {
		return err
	}
	tr := newTracker(targetsOf(cfg.Clients, cfg.PerClient, cfg.span()), cfg.Services)
	f, err := startFleet(srv.addr, cfg.StreamsPerConn, tr)
	if err != nil {
		return err
	}
	defer f.stop()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.PhaseBudget)
	defer cancel()
	return tr.wait(ctx, tr.allConverged)
}
