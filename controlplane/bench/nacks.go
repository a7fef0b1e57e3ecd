package bench

import (
	"sync/atomic"

	"github.com/kxds/kxds/controlplane/internal/xdsserver"
)

// nackCounter counts NACKs on their way to the real metrics: any NACK means
// a server sent configuration that a client rejected.
type nackCounter struct {
	xdsserver.Metrics
	n atomic.Int64
}

func (c *nackCounter) NACK(typeURL string) {
	c.n.Add(1)
	c.Metrics.NACK(typeURL)
}
