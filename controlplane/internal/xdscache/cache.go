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
	"sort"
	"strconv"
	"sync"

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
	tables  map[string]*table
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
	c := &Cache{tables: map[string]*table{}, observer: observer}
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
		msg  proto.Message
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
			prepared[i] = append(prepared[i], marshalled{name, msg, &anypb.Any{TypeUrl: ch.TypeURL, Value: b}})
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
			t.entries[m.name] = &entry{version: next, any: m.any, msg: m.msg}
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
	for name := range t.watches {
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
	return strconv.FormatUint(c.version, 10)
}

// Resource is one cached resource, for the admin pages.
type Resource struct {
	Name    string
	Version string
	Message proto.Message
}

// Resources lists the resources of one type, sorted by name.
func (c *Cache) Resources(typeURL string) []Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[typeURL]
	if t == nil {
		return nil
	}
	out := make([]Resource, 0, len(t.entries))
	for name, e := range t.entries {
		out = append(out, Resource{Name: name, Version: e.version, Message: e.msg})
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
	if resp := c.respond(t, w, replyEmpty); resp != nil {
		w.out <- resp
		return func() {}, nil
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
	for _, w := range t.watchesFor(names) {
		if resp := c.respond(t, w, false); resp != nil {
			t.remove(w)
			// Never blocks: the server's channel has room for one response per
			// type, and a watch fires at most once.
			w.out <- resp
		}
	}
}

// respond builds the response a watch needs now, or nil if it is up to date.
func (c *Cache) respond(t *table, w *watch, replyEmpty bool) cache.Response {
	known := w.sub.ReturnedResources()
	var names []string
	if w.sub.IsWildcard() {
		names = t.names(known)
	} else {
		names = make([]string, 0, len(w.sub.SubscribedResources()))
		for name := range w.sub.SubscribedResources() {
			names = append(names, name)
		}
		sort.Strings(names)
	}
	returned := make(map[string]string, len(names))
	var resources []*anypb.Any
	changed := false
	for _, name := range names {
		prev, had := known[name]
		if e, ok := t.entries[name]; ok {
			returned[name] = e.version
			if !had || prev != e.version {
				changed = true
				resources = append(resources, e.any)
			} else if t.fullState {
				resources = append(resources, e.any)
			}
			continue
		}
		if t.typeURL == resource.ListenerType && c.placeholders != nil && !w.sub.IsWildcard() {
			any, version, send := c.placeholders.next(name, prev)
			if any != nil {
				c.observer.UnknownTarget(name)
			}
			returned[name] = version
			changed = changed || send
			if any != nil {
				resources = append(resources, any)
			}
			continue
		}
		// Gone: a full-state type signals deletion by leaving it out.
		if had && t.fullState {
			changed = true
		}
	}
	if !t.fullState && len(resources) == 0 {
		changed = false
	}
	if !changed && !replyEmpty {
		return nil
	}
	c.observer.Pushed(t.typeURL, len(resources))
	return &response{
		req:       w.req,
		version:   strconv.FormatUint(c.version, 10),
		resources: resources,
		returned:  returned,
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
