package health

import (
	"context"
	"sync"
)

// dialLimiter is a counting semaphore over health RPCs that may have to
// establish a connection.
type dialLimiter chan struct{}

func newDialLimiter(n int) dialLimiter { return make(dialLimiter, n) }

// acquire waits for a slot. The returned release may be called any number of
// times, from any goroutine: the probe calls it on the first answer and a
// timer calls it at ResponseTimeout, whichever comes first.
func (l dialLimiter) acquire(ctx context.Context) (release func(), err error) {
	select {
	case l <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-l }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
