package kubesource

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
)

// Log messages operators (and tests) look for.
const (
	msgWaitingForSync = "still waiting for the initial list of Services and EndpointSlices (and Nodes with --watch-nodes) from the Kubernetes API; not serving until then"
	msgAPIUnreachable = "Kubernetes API unreachable; informers keep retrying, the last known state is kept"
	msgAPIReachable   = "Kubernetes API reachable again"
)

// apiMonitor makes an unreachable API server visible in the logs. The
// informers retry on their own, but report "connection refused" only at klog
// verbosity 2-4, so without this a kxds whose API server is down would be
// silent. Every interval it asks the server for /version:
//
//   - before the initial sync, it logs that it is still waiting, with the
//     latest error (from this check, or a list/watch error such as 403);
//   - after it, it logs when the API becomes unreachable and reachable again.
type apiMonitor struct {
	client   rest.Interface // nil for clients without one (fake clientsets): only the waiting log
	interval time.Duration
	log      *slog.Logger
	synced   atomic.Bool

	mu           sync.Mutex
	lastWatchErr error
}

// watchFailed records a list/watch error the informers reported.
func (m *apiMonitor) watchFailed(err error) {
	m.mu.Lock()
	m.lastWatchErr = err
	m.mu.Unlock()
}

func (m *apiMonitor) run(ctx context.Context) {
	begin := time.Now()
	var downSince time.Time
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := m.check(ctx)
		if ctx.Err() != nil {
			return
		}
		if !m.synced.Load() {
			if err == nil {
				m.mu.Lock()
				err = m.lastWatchErr
				m.mu.Unlock()
			}
			m.log.Warn(msgWaitingForSync, "waited", time.Since(begin).Round(time.Second), "error", errString(err))
			continue
		}
		switch {
		case err != nil && downSince.IsZero():
			downSince = time.Now()
			m.log.Warn(msgAPIUnreachable, "error", err)
		case err == nil && !downSince.IsZero():
			m.log.Info(msgAPIReachable, "unreachable_for", time.Since(downSince).Round(time.Second))
			downSince = time.Time{}
		}
	}
}

// check asks the API server for /version, which every client may read.
func (m *apiMonitor) check(ctx context.Context) error {
	if m.client == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(m.interval, 5*time.Second))
	defer cancel()
	return m.client.Get().AbsPath("/version").Do(ctx).Error()
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}
