package xdscache

import (
	"sort"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// entry is one resource at one version, marshalled once and shared by every
// response that carries it.
type entry struct {
	version string
	any     *anypb.Any
	msg     proto.Message
}

// watch is a stream's pending request for one resource type.
type watch struct {
	req *cache.Request
	sub cache.Subscription
	out chan cache.Response
}

// table holds the resources of one type and the watches parked on them.
type table struct {
	typeURL   string
	fullState bool
	entries   map[string]*entry
	// byName indexes watches by subscribed name, so a change costs time in
	// proportion to its subscribers, not to all streams.
	byName     map[string]map[*watch]struct{}
	wildcard   map[*watch]struct{}
	watches    map[string]struct{} // names with at least one watch
	watchCount int
}

func newTable(typeURL string, fullState bool) *table {
	return &table{
		typeURL:   typeURL,
		fullState: fullState,
		entries:   map[string]*entry{},
		byName:    map[string]map[*watch]struct{}{},
		wildcard:  map[*watch]struct{}{},
		watches:   map[string]struct{}{},
	}
}

func (t *table) add(w *watch) {
	t.watchCount++
	if w.sub.IsWildcard() {
		t.wildcard[w] = struct{}{}
		return
	}
	for name := range w.sub.SubscribedResources() {
		set := t.byName[name]
		if set == nil {
			set = map[*watch]struct{}{}
			t.byName[name] = set
			t.watches[name] = struct{}{}
		}
		set[w] = struct{}{}
	}
}

// remove is idempotent: a watch may be cancelled after it fired.
func (t *table) remove(w *watch) {
	if w.sub.IsWildcard() {
		if _, ok := t.wildcard[w]; ok {
			delete(t.wildcard, w)
			t.watchCount--
		}
		return
	}
	removed := false
	for name := range w.sub.SubscribedResources() {
		set := t.byName[name]
		if _, ok := set[w]; ok {
			removed = true
			delete(set, w)
			if len(set) == 0 {
				delete(t.byName, name)
				delete(t.watches, name)
			}
		}
	}
	if removed {
		t.watchCount--
	}
}

// watchesFor returns each watch subscribed to any of names once.
func (t *table) watchesFor(names []string) []*watch {
	seen := map[*watch]struct{}{}
	var out []*watch
	for _, name := range names {
		for w := range t.byName[name] {
			if _, dup := seen[w]; !dup {
				seen[w] = struct{}{}
				out = append(out, w)
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
