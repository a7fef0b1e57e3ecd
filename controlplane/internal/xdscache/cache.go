// Package xdscache holds kxds' xDS resources: one shared, versioned copy of each
// resource for all clients, marshalled once per version, with watches indexed by
// resource name so a change wakes only the streams subscribed to it. It
// implements go-control-plane's cache.Cache for its state-of-the-world ADS server.
//
// Unlike go-control-plane's SnapshotCache it answers clients that name any subset
// of the resources (gRPC clients name only what they dial) and serves every node
// ID from the same resources. Unlike LinearCache it tells a client at once that
// a listener does not exist (see placeholder.go), and never re-sends a resource a
// client rejected.
package xdscache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unique"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fullStateTypes must list every subscribed resource in each response: for
// these, a state-of-the-world client reads a missing name as "deleted".
var fullStateTypes = map[string]bool{resource.ListenerType: true, resource.ClusterType: true}

// Cache is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	version uint64
	// versionInfo is version as a string, made once per version rather than
	// once per response.
	versionInfo string
	tables      map[string]*table
	// notifyMark numbers notify calls (see watch.mark); firing is notify's
	// reused scratch list.
	notifyMark uint64
	firing     []*watch
	// placeholders answers listener names nobody serves; nil until Synced.
	placeholders *placeholders
	observer     Observer
}

var _ cache.Cache = (*Cache)(nil)

// Observer is told about pushes, for metrics. Calls happen under the cache lock
// and must be quick.
type Observer interface {
	// Pushed is called once per response sent to a stream.
	Pushed(typeURL string, resources int)
	// UnknownTarget is called when a stream is first told that a listener
	// it asked for does not exist.
	UnknownTarget(name string)
}

type nopObserver struct{}

func (nopObserver) Pushed(string, int)   {}
func (nopObserver) UnknownTarget(string) {}

// New returns an empty cache for the four resource types gRPC clients use.
func New(observer Observer) *Cache {
	if observer == nil {
		observer = nopObserver{}
	}
	c := &Cache{tables: map[string]*table{}, observer: observer, versionInfo: "0"}
	for _, t := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		c.tables[t] = newTable(t, fullStateTypes[t])
	}
	return c
}

// Change sets and deletes resources of one type.
type Change struct {
	TypeURL string
	// Set adds or replaces resources by name.
	Set map[string]proto.Message
	// Delete removes resources by name; unknown names are ignored.
	Delete []string
}

// Apply makes all changes under one new version, in the order given, and wakes
// the watches of every resource whose bytes changed. Callers order changes so a
// client never sees a reference before its target (add: EDS, CDS, RDS, LDS;
// remove: the reverse). A resource that marshals to the same bytes as before keeps
// its version and wakes nobody.
func (c *Cache) Apply(changes ...Change) error {
	type marshalled struct {
		name string
		any  *anypb.Any
	}
	// Marshal outside the lock: it is the expensive part.
	prepared := make([][]marshalled, len(changes))
	for i, ch := range changes {
		for name, msg := range ch.Set {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
			if err != nil {
				return fmt.Errorf("marshal %s %q: %w", ch.TypeURL, name, err)
			}
			prepared[i] = append(prepared[i], marshalled{name, &anypb.Any{TypeUrl: ch.TypeURL, Value: b}})
		}
		sort.Slice(prepared[i], func(a, b int) bool { return prepared[i][a].name < prepared[i][b].name })
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		if c.tables[ch.TypeURL] == nil {
			return fmt.Errorf("unsupported resource type %q", ch.TypeURL)
		}
	}
	next := strconv.FormatUint(c.version+1, 10)
	bumped := false
	for i, ch := range changes {
		t := c.tables[ch.TypeURL]
		var touched []string
		for _, m := range prepared[i] {
			if old, ok := t.entries[m.name]; ok && bytes.Equal(old.any.Value, m.any.Value) {
				continue
			}
			name := unique.Make(m.name)
			t.entries[name.Value()] = &entry{name: name, version: next, any: m.any}
			touched = append(touched, m.name)
		}
		for _, name := range ch.Delete {
			if _, ok := t.entries[name]; ok {
				delete(t.entries, name)
				touched = append(touched, name)
			}
		}
		if len(touched) == 0 {
			continue
		}
		if !bumped {
			c.version++
			c.versionInfo = next
			bumped = true
		}
		c.notify(t, touched)
	}
	return nil
}

// EnablePlaceholders makes the cache answer listener names that no service
// has, so clients fail at once with "does not exist" instead of waiting for
// their 15 s resource timer. Call it once discovery has synced: before that an
// unknown name may just not have been discovered yet.
// build makes the placeholder listener for a name; it must be a valid listener
// whose use never reaches a real backend.
func (c *Cache) EnablePlaceholders(build func(name string) proto.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.placeholders != nil {
		return
	}
	c.placeholders = &placeholders{build: build}
	t := c.tables[resource.ListenerType]
	var waiting []string
	for name := range t.byName {
		if _, ok := t.entries[name]; !ok {
			waiting = append(waiting, name)
		}
	}
	c.notify(t, waiting)
}

// Version is the version of the most recent change.
func (c *Cache) Version() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versionInfo
}

// Resource is one cached resource, for the admin pages.
type Resource struct {
	Name    string
	Version string
	Message proto.Message
}

// Resources lists the resources of one type, sorted by name. The messages
// are decoded from the cached bytes: only the bytes are kept, which more than
// halves the memory a service costs, and the admin pages are rarely read.
func (c *Cache) Resources(typeURL string) []Resource {
	c.mu.Lock()
	t := c.tables[typeURL]
	if t == nil {
		c.mu.Unlock()
		return nil
	}
	out := make([]Resource, 0, len(t.entries))
	anys := make([]*anypb.Any, 0, len(t.entries))
	for name, e := range t.entries {
		out = append(out, Resource{Name: name, Version: e.version})
		anys = append(anys, e.any)
	}
	c.mu.Unlock()
	for i, a := range anys {
		// Entries are never modified once cached, so this needs no lock.
		msg, err := a.UnmarshalNew()
		if err != nil {
			msg = a // still shows what is served
		}
		out[i].Message = msg
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// WatchCount is the number of open watches, for metrics.
func (c *Cache) WatchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.tables {
		n += t.watchCount
	}
	return n
}

// CreateWatch answers at once when the client lacks something it subscribed
// to, and otherwise parks the watch until one of its resources changes.
func (c *Cache) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[req.GetTypeUrl()]
	if t == nil {
		// A type kxds does not serve (e.g. secrets): never answer, like an empty
		// server would, rather than end the client's whole ADS stream.
		return func() {}, nil
	}
	w := &watch{req: req, sub: sub, out: out}
	// A first request (no version) gets an answer even if empty. A NACK does not
	// count as one: it carries the last accepted version (empty if none), and
	// answering it would re-send the rejected resources in a loop.
	replyEmpty := req.GetVersionInfo() == "" && req.GetErrorDetail() == nil
	if replyEmpty || !c.upToDate(t, w, w.sub.ReturnedResources()) {
		if resp := c.respond(t, w, replyEmpty); resp != nil {
			w.out <- resp
			return func() {}, nil
		}
	}
	t.add(w)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.remove(w)
	}, nil
}

// notify answers every parked watch subscribed to one of names. It holds c.mu.
func (c *Cache) notify(t *table, names []string) {
	c.notifyMark++
	c.firing = t.watchesFor(names, c.notifyMark, c.firing[:0])
	for i, w := range c.firing {
		c.firing[i] = nil // keep no stream alive from the scratch list
		if resp := c.respond(t, w, false); resp != nil {
			t.remove(w)
			// Never blocks: the server's channel has room for one response per
			// type, and a watch fires at most once.
			w.out <- resp
		}
	}
}

// upToDate reports, without allocating, that respond would answer nil: the
// common case for a new watch, since every ACK creates one and most find
// nothing new. It mirrors respond's decisions (see visit) and may say false
// when respond finds nothing. notify skips it: a watch it wakes has a changed
// name, so it nearly always gets a response.
func (c *Cache) upToDate(t *table, w *watch, known map[string]string) bool {
	if w.sub.IsWildcard() {
		for name, e := range t.entries {
			if known[name] != e.version {
				return false
			}
		}
		if t.fullState {
			for name := range known {
				if _, ok := t.entries[name]; !ok {
					return false
				}
			}
		}
		return true
	}
	for name := range w.sub.SubscribedResources() {
		prev, had := known[name]
		if e, ok := t.entries[name]; ok {
			if !had || prev != e.version {
				return false
			}
			continue
		}
		if t.typeURL == resource.ListenerType && c.placeholders != nil {
			if prev != absentVersion { // see placeholders.next
				return false
			}
			continue
		}
		if had && t.fullState {
			return false
		}
	}
	return true
}

// respond builds the response a watch needs now, or nil if it is up to date.
func (c *Cache) respond(t *table, w *watch, replyEmpty bool) cache.Response {
	known := w.sub.ReturnedResources()
	b := builder{returned: make(map[string]string, len(w.sub.SubscribedResources()))}
	if w.sub.IsWildcard() {
		for _, name := range t.names(known) {
			c.visit(t, w, &b, name, known)
		}
	} else {
		for name := range w.sub.SubscribedResources() {
			c.visit(t, w, &b, name, known)
		}
	}
	if !t.fullState && len(b.items) == 0 {
		b.changed = false
	}
	if !b.changed && !replyEmpty {
		return nil
	}
	// Sorted for stable responses; usually one resource (EDS, RDS), so
	// sorting what is sent beats sorting every subscribed name.
	if len(b.items) > 1 {
		slices.SortFunc(b.items, func(x, y named) int { return strings.Compare(x.name, y.name) })
	}
	resources := make([]*anypb.Any, len(b.items))
	for i, it := range b.items {
		resources[i] = it.any
	}
	c.observer.Pushed(t.typeURL, len(resources))
	return &response{
		req:       w.req,
		version:   c.versionInfo,
		resources: resources,
		returned:  b.returned,
	}
}

// builder accumulates one response.
type builder struct {
	returned map[string]string
	items    []named
	changed  bool
}

type named struct {
	name string
	any  *anypb.Any
}

// visit decides what one subscribed name contributes to a response.
func (c *Cache) visit(t *table, w *watch, b *builder, name string, known map[string]string) {
	prev, had := known[name]
	if e, ok := t.entries[name]; ok {
		b.returned[name] = e.version
		if !had || prev != e.version {
			b.changed = true
			b.items = append(b.items, named{name, e.any})
		} else if t.fullState {
			b.items = append(b.items, named{name, e.any})
		}
		return
	}
	if t.typeURL == resource.ListenerType && c.placeholders != nil && !w.sub.IsWildcard() {
		any, version, send := c.placeholders.next(name, prev)
		if any != nil {
			c.observer.UnknownTarget(name)
			b.items = append(b.items, named{name, any})
		}
		b.returned[name] = version
		b.changed = b.changed || send
		return
	}
	// Gone: a full-state type signals deletion by leaving it out.
	if had && t.fullState {
		b.changed = true
	}
}

// Fetch serves REST (non-streaming) requests, which gRPC clients do not use.
func (c *Cache) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errors.New("kxds serves xDS over gRPC streams only")
}

// CreateDeltaWatch rejects incremental xDS: gRPC clients speak state of the world.
func (c *Cache) CreateDeltaWatch(*cache.DeltaRequest, cache.Subscription, chan cache.DeltaResponse) (func(), error) {
	return nil, errors.New("kxds does not serve incremental (delta) xDS; use state-of-the-world ADS")
}
