// Package source defines how discovery mechanisms (a static file, Kubernetes
// informers, DNS SRV) report services to kxds: as a stream of events, never as
// something kxds polls.
package source

import (
	"context"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// Sink receives what a Source discovers. Implementations are safe for
// concurrent use and never block for long.
type Sink interface {
	// Set adds a service or replaces it whole. The sink may keep the value.
	Set(model.Service)
	// Delete removes a service; deleting an unknown key is a no-op.
	Delete(model.ServiceKey)
	// Synced tells the sink that the initial state has been delivered in full,
	// so that kxds may start answering clients. It may be called more than once.
	Synced()
}

// Source discovers services and reports them to a Sink until ctx ends.
type Source interface {
	// Run blocks until ctx is done or the source fails for good.
	Run(ctx context.Context, sink Sink) error
}
