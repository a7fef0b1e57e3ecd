package health

import (
	"cmp"
	"slices"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// EndpointState is one endpoint of a health-checked service, for /debug/config.
type EndpointState struct {
	Service model.ServiceKey
	Address string // host:port
	// Health is what the Checker forwards for this endpoint.
	Health model.HealthStatus
	// Checked is false for endpoints passed through as the source reported
	// them (Unhealthy or Draining).
	Checked bool
	// Detail is the latest check outcome, e.g. "SERVING", "NOT_SERVING" or an
	// RPC error; empty when not checked.
	Detail string
	// Since is when Health last changed; zero when not checked.
	Since time.Time
}

// Snapshot lists the endpoints of every service with HealthCheck set, sorted
// by service and address.
func (c *Checker) Snapshot() []EndpointState {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []EndpointState
	for _, cs := range c.services {
		if !cs.fromSource.HealthCheck {
			continue
		}
		for _, e := range cs.fromSource.Endpoints {
			st := EndpointState{Service: cs.fromSource.Key, Address: e.HostPort(), Health: e.Health}
			if ck := cs.checks[st.Address]; ck != nil {
				st.Health, st.Checked, st.Detail, st.Since = ck.health, true, ck.detail, ck.since
			}
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b EndpointState) int {
		return cmp.Or(
			cmp.Compare(a.Service.Namespace, b.Service.Namespace),
			cmp.Compare(a.Service.Name, b.Service.Name),
			cmp.Compare(a.Address, b.Address))
	})
	return out
}
