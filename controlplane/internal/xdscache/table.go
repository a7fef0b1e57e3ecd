package xdscache

import (
	"sort"
	"unique"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// entry is one resource at one version, marshalled once and shared by every
// response that carries it. Only the bytes are kept (see Cache.Resources).
type entry struct {
	// name keeps the canonical copy of the resource's name alive while it is
	// served: the ADS server interns the names in requests (see
	// xdsserver.NewGRPCServer), so every stream watching it shares this one.
	name    unique.Handle[string]
	version string
	any     *anypb.Any
}

// watch is a stream's pending request for one resource type.
type watch struct {
	req *cache.Request
	sub cache.Subscription
	out chan cache.Response
	// While parked: one slot per subscribed name, in that name's index.
	slots  []slot
	parked bool
	// mark is the last notify that collected this watch, so a watch
	// subscribed to several changed names is answered once, without a set.
	mark uint64
}

// slot is a watch's place in one name's index. Indexes are slices, not sets:
// every request re-parks its stream's watch (an ACK cancels the old watch and
// creates a new one), so adding and removing must be cheap; with the
// position kept here, removal is a swap with the last element, no hashing.
type slot struct {
	w     *watch
	pos   int
	index *nameIndex
}

type nameIndex struct {
	name  string
	slots []*slot
}

// table holds the resources of one type and the watches parked on them.
type table struct {
	typeURL   string
	fullState bool
	entries   map[string]*entry
	// byName indexes watches by subscribed name, so a change costs time in
	// proportion to its subscribers, not to all streams.
	byName     map[string]*nameIndex
	wildcard   map[*watch]struct{}
	watchCount int
}

func newTable(typeURL string, fullState bool) *table {
	return &table{
		typeURL:   typeURL,
		fullState: fullState,
		entries:   map[string]*entry{},
		byName:    map[string]*nameIndex{},
		wildcard:  map[*watch]struct{}{},
	}
}

func (t *table) add(w *watch) {
	t.watchCount++
	w.parked = true
	if w.sub.IsWildcard() {
		t.wildcard[w] = struct{}{}
		return
	}
	names := w.sub.SubscribedResources()
	// Sized up front: the index points into this array.
	w.slots = make([]slot, 0, len(names))
	for name := range names {
		idx := t.byName[name]
		if idx == nil {
			idx = &nameIndex{name: name}
			t.byName[name] = idx
		}
		w.slots = append(w.slots, slot{w: w, pos: len(idx.slots), index: idx})
		idx.slots = append(idx.slots, &w.slots[len(w.slots)-1])
	}
}

// remove is idempotent: a watch may be cancelled after it fired.
func (t *table) remove(w *watch) {
	if !w.parked {
		return
	}
	w.parked = false
	t.watchCount--
	if w.sub.IsWildcard() {
		delete(t.wildcard, w)
		return
	}
	for i := range w.slots {
		s := &w.slots[i]
		idx := s.index
		last := len(idx.slots) - 1
		moved := idx.slots[last]
		idx.slots[s.pos] = moved
		moved.pos = s.pos
		idx.slots[last] = nil
		idx.slots = idx.slots[:last]
		if last == 0 {
			delete(t.byName, idx.name)
		}
	}
	w.slots = nil
}

// watchesFor appends each watch subscribed to any of names, once, to out.
// The caller answers them afterwards: answering removes watches from the
// indexes being walked here.
func (t *table) watchesFor(names []string, mark uint64, out []*watch) []*watch {
	for _, name := range names {
		idx := t.byName[name]
		if idx == nil {
			continue
		}
		for _, s := range idx.slots {
			if s.w.mark != mark {
				s.w.mark = mark
				out = append(out, s.w)
			}
		}
	}
	for w := range t.wildcard {
		out = append(out, w)
	}
	return out
}

// names is what a wildcard subscriber should hear about: every resource, plus
// those it has that are now gone.
func (t *table) names(known map[string]string) []string {
	out := make([]string, 0, len(t.entries))
	for name := range t.entries {
		out = append(out, name)
	}
	for name := range known {
		if _, ok := t.entries[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
