package bench

import (
	"sync"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// takenSink sits between discovery and the server under test in the child
// and tells the parent how many changes the server has taken, whichever
// source delivered them. A change is a generation: service i at generation g
// has taken g changes, so the total is the sum of the newest generations.
// This holds when a source merges two quick changes of a service into one
// report (informers do), where counting reports would not.
type takenSink struct {
	source.Sink
	report func(taken int) // called after the server has the change

	mu     sync.Mutex
	gens   map[int]int
	taken  int
	once   sync.Once
	synced chan struct{}
}

func newTakenSink(server source.Sink, report func(int)) *takenSink {
	return &takenSink{Sink: server, report: report, gens: map[int]int{}, synced: make(chan struct{})}
}

func (t *takenSink) Set(svc model.Service) {
	t.Sink.Set(svc)
	i, ok := benchIndex(svc.Key)
	if !ok {
		return
	}
	gen := generationOfService(svc)
	t.mu.Lock()
	if gen <= t.gens[i] {
		t.mu.Unlock()
		return
	}
	t.taken += gen - t.gens[i]
	t.gens[i] = gen
	n := t.taken
	t.mu.Unlock()
	t.report(n)
}

func (t *takenSink) Synced() {
	t.Sink.Synced()
	t.once.Do(func() { close(t.synced) })
}
