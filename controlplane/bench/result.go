package bench

import (
	"slices"
	"time"
)

// Result is what one implementation did in one run.
type Result struct {
	Impl string

	ColdStart    time.Duration // clients started → every client ACKed its whole config
	ColdStartCPU time.Duration // server CPU during cold start

	Propagation     Latencies // one change at a time
	CPUPerChange    time.Duration
	PushesPerChange float64 // responses received by all clients per change

	ChurnSent, ChurnSkipped int // skipped: the server still had a backlog
	ChurnRate               float64
	ChurnLatency            Latencies
	ChurnCPU                time.Duration
	Lost                    int // (client, service) pairs that ended unlike the model

	RSSPerClientKB, HeapPerClientKB   float64
	StackPerClientKB                  float64 // goroutine stacks, part of RSS, not of the heap
	RSSPerServiceKB, HeapPerServiceKB float64
	GoroutinesPerClient               float64
	NACKs                             int64
	Sanity                            string // "ok", or why the grpc-go channels failed
	// Errors are failures: lost updates, NACKs, clients that did not
	// converge. Notes are limits reached, e.g. a phase budget that let a
	// slow design time fewer changes.
	Errors, Notes []string
}

// Latencies are propagation times, sorted.
type Latencies []time.Duration

func newLatencies(d []time.Duration) Latencies {
	d = slices.Clone(d)
	slices.Sort(d)
	return d
}

// Quantile is the nearest-rank quantile; 0 when empty.
func (l Latencies) Quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(q*float64(len(l))+0.999999) - 1
	return l[min(max(i, 0), len(l)-1)]
}

func (l Latencies) Max() time.Duration { return l.Quantile(1) }
