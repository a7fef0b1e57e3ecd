package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// tracker follows every change the parent sends until each subscriber of the
// changed service has ACKed it, and what each client last received. Clients
// report to it; the phases wait on it.
type tracker struct {
	targets [][]int   // per client: the services it dials
	subs    [][]int32 // per service: its subscribers
	// responses counts every response any client received (pushes).
	responses atomic.Int64

	mu sync.Mutex
	// Per client, per target: the highest generation ACKed (-1: none yet)
	// and what the client holds now.
	gens    [][]int32
	state   [][]edsState
	have    []int // per client: targets ACKed at least once
	done    int   // clients holding their whole config
	pending []map[int]*pendingChange
	npend   int
	lat     []time.Duration
	err     error
	wake    chan struct{}
}

type pendingChange struct {
	sent      time.Time
	remaining int
}

func newTracker(targets [][]int, services int) *tracker {
	t := &tracker{
		targets: targets,
		subs:    make([][]int32, services),
		gens:    make([][]int32, len(targets)),
		state:   make([][]edsState, len(targets)),
		have:    make([]int, len(targets)),
		pending: make([]map[int]*pendingChange, services),
		wake:    make(chan struct{}),
	}
	for c, ts := range targets {
		t.gens[c] = make([]int32, len(ts))
		t.state[c] = make([]edsState, len(ts))
		for i, s := range ts {
			t.gens[c][i] = -1
			t.subs[s] = append(t.subs[s], int32(c))
		}
	}
	return t
}

// broadcast wakes every waiter; it holds t.mu.
func (t *tracker) broadcast() {
	close(t.wake)
	t.wake = make(chan struct{})
}

// expect registers a change before it is sent; false if nobody subscribes.
func (t *tracker) expect(service, gen int, sent time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.subs[service])
	if n == 0 {
		return false
	}
	if t.pending[service] == nil {
		t.pending[service] = map[int]*pendingChange{}
	}
	t.pending[service][gen] = &pendingChange{sent: sent, remaining: n}
	t.npend++
	return true
}

// acked records that client c ACKed target i at state st. A newer generation
// also completes the older ones it supersedes (state of the world).
func (t *tracker) acked(c, i int, st edsState, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state[c][i] = st
	prev := int(t.gens[c][i])
	if st.gen <= prev {
		return
	}
	t.gens[c][i] = int32(st.gen)
	wake := false
	if prev < 0 {
		t.have[c]++
		if t.have[c] == len(t.targets[c]) {
			t.done++
			wake = true
		}
	}
	s := t.targets[c][i]
	for g := prev + 1; g <= st.gen && t.pending[s] != nil; g++ {
		p := t.pending[s][g]
		if p == nil {
			continue
		}
		if p.remaining--; p.remaining == 0 {
			t.lat = append(t.lat, at.Sub(p.sent))
			delete(t.pending[s], g)
			t.npend--
			wake = true
		}
	}
	if wake {
		t.broadcast()
	}
}

// fail records a client error; waits then fail at once.
func (t *tracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
		t.broadcast()
	}
}

// wait blocks until cond (called under t.mu) holds, a client failed, or ctx ends.
func (t *tracker) wait(ctx context.Context, cond func() bool) error {
	for {
		t.mu.Lock()
		ok, err, wake := cond(), t.err, t.wake
		t.mu.Unlock()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (t *tracker) allConverged() bool   { return t.done == len(t.targets) }
func (t *tracker) nothingPending() bool { return t.npend == 0 }

// pendingCount is the number of changes not yet ACKed by every subscriber.
func (t *tracker) pendingCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.npend
}

// takeLatencies returns the propagation times recorded since the last call.
func (t *tracker) takeLatencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.lat
	t.lat = nil
	return out
}

// mismatches counts (client, target) pairs whose endpoints differ from the
// model at generation latest[service]: lost or wrong updates.
func (t *tracker) mismatches(latest []int, endpoints int) int {
	want := make(map[int]edsState)
	t.mu.Lock()
	defer t.mu.Unlock()
	bad := 0
	for c, ts := range t.targets {
		for i, s := range ts {
			w, ok := want[s]
			if !ok {
				w = modelState(s, latest[s], endpoints)
				want[s] = w
			}
			if t.state[c][i] != w {
				bad++
			}
		}
	}
	return bad
}
