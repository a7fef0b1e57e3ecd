package health

import (
	"math/rand/v2"
	"time"
)

// retryBackoff spaces Watch stream attempts: exponential from base, capped at
// max, with ±20% jitter so that endpoints that failed together (a node going
// away) do not retry in lockstep.
type retryBackoff struct {
	base, max time.Duration
	failures  int
}

func (b *retryBackoff) next() time.Duration {
	d := b.base
	for i := 0; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	b.failures++
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, b.max)
}

// reset is called once an attempt got an answer, so that the next break is
// retried quickly again.
func (b *retryBackoff) reset() { b.failures = 0 }
