package health

import (
	"testing"
	"time"
)

func TestRetryBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	b := retryBackoff{base: 100 * time.Millisecond, max: time.Second}
	for i, nominal := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		nominal *= time.Millisecond
		d := b.next()
		if lo, hi := nominal*8/10, min(nominal*12/10, b.max); d < lo || d > hi {
			t.Errorf("attempt %d: delay %v, want in [%v, %v]", i, d, lo, hi)
		}
	}
	b.reset()
	if d := b.next(); d > 120*time.Millisecond {
		t.Errorf("after reset: delay %v, want about the base", d)
	}
}
