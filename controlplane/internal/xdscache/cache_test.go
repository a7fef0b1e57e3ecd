package xdscache

import (
	"slices"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// fakeStream plays go-control-plane's SotW server for one type: it keeps the
// subscription and the returned versions the way the real server does.
type fakeStream struct {
	t       *testing.T
	c       *Cache
	typeURL string
	sub     stream.Subscription
	out     chan cache.Response
	cancel  func()
	last    *discovery.DiscoveryResponse
}

func newStream(t *testing.T, c *Cache, typeURL string, names ...string) *fakeStream {
	s := &fakeStream{t: t, c: c, typeURL: typeURL, sub: stream.NewSotwSubscription(names, false), out: make(chan cache.Response, 1)}
	s.request("", nil)
	return s
}

// request sends a request (first, ACK or NACK) for the current names.
func (s *fakeStream) request(version string, nack *status.Status) {
	s.t.Helper()
	if s.cancel != nil {
		s.cancel()
	}
	names := make([]string, 0)
	for n := range s.sub.SubscribedResources() {
		names = append(names, n)
	}
	cancel, err := s.c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: s.typeURL, ResourceNames: names, VersionInfo: version, ErrorDetail: nack}, s.sub, s.out)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cancel = cancel
}

// ack acknowledges the last response.
func (s *fakeStream) ack() { s.request(s.last.GetVersionInfo(), nil) }

// recv returns the pending response, or nil.
func (s *fakeStream) recv() *discovery.DiscoveryResponse {
	s.t.Helper()
	select {
	case r := <-s.out:
		s.sub.SetReturnedResources(r.GetReturnedResources())
		d, err := r.GetDiscoveryResponse()
		if err != nil {
			s.t.Fatal(err)
		}
		s.last = d
		return d
	default:
		return nil
	}
}

func names(t *testing.T, r *discovery.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range r.GetResources() {
		switch a.GetTypeUrl() {
		case resource.ListenerType:
			var l listener.Listener
			if err := a.UnmarshalTo(&l); err != nil {
				t.Fatal(err)
			}
			out = append(out, l.GetName())
		case resource.EndpointType:
			var e endpoint.ClusterLoadAssignment
			if err := a.UnmarshalTo(&e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e.GetClusterName())
		}
	}
	slices.Sort(out)
	return out
}

func cla(name string, port uint32) *endpoint.ClusterLoadAssignment {
	return &endpoint.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpoint.LocalityLbEndpoints{{
		LbEndpoints: []*endpoint.LbEndpoint{{HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
			Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
				Address: "10.0.0.1", PortSpecifier: &core.SocketAddress_PortValue{PortValue: port}}}}}}}},
	}}}
}

func setEDS(t *testing.T, c *Cache, set map[string]uint32, del ...string) {
	t.Helper()
	ch := Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{}, Delete: del}
	for n, p := range set {
		ch.Set[n] = cla(n, p)
	}
	if err := c.Apply(ch); err != nil {
		t.Fatal(err)
	}
}

func TestSubsetRequestIsAnsweredAndOnlySubscribersWake(t *testing.T) {
	c := New(nil)
	setEDS(t, c, map[string]uint32{"a": 1, "b": 1, "c": 1})
	sa := newStream(t, c, resource.EndpointType, "a")
	sb := newStream(t, c, resource.EndpointType, "b", "c")
	if r := sa.recv(); !slices.Equal(names(t, r), []string{"a"}) {
		t.Fatalf("stream a got %v", names(t, r))
	}
	if r := sb.recv(); !slices.Equal(names(t, r), []string{"b", "c"}) {
		t.Fatalf("stream b got %v", names(t, r))
	}
	sa.ack()
	sb.ack()
	if c.WatchCount() != 2 {
		t.Errorf("watch count %d, want 2", c.WatchCount())
	}

	setEDS(t, c, map[string]uint32{"c": 2})
	if r := sa.recv(); r != nil {
		t.Errorf("stream a woke for a change to c: %v", names(t, r))
	}
	// EDS is not full-state: only the changed resource is sent.
	if r := sb.recv(); !slices.Equal(names(t, r), []string{"c"}) {
		t.Errorf("stream b got %v, want just c", names(t, r))
	}

	// Same bytes: no new version, nobody woken.
	v := c.Version()
	sb.ack()
	setEDS(t, c, map[string]uint32{"a": 1, "b": 1, "c": 2})
	if c.Version() != v || sa.recv() != nil || sb.recv() != nil {
		t.Errorf("unchanged resources bumped the version (%s → %s) or woke a stream", v, c.Version())
	}
}

func TestNACKIsNotAnsweredWithTheSameResources(t *testing.T) {
	c := New(nil)
	setEDS(t, c, map[string]uint32{"a": 1})
	s := newStream(t, c, resource.EndpointType, "a")
	if s.recv() == nil {
		t.Fatal("no first response")
	}
	// A NACK of the first response carries no version at all.
	s.request("", &status.Status{Code: 3, Message: "bad"})
	if r := s.recv(); r != nil {
		t.Fatalf("NACK answered with %v", names(t, r))
	}
	setEDS(t, c, map[string]uint32{"a": 2})
	if r := s.recv(); r == nil {
		t.Error("a new version after a NACK was not sent")
	}
}

func TestUnknownListenerGetsPlaceholderThenWithdrawal(t *testing.T) {
	c := New(nil)
	built := 0
	c.EnablePlaceholders(func(name string) proto.Message { built++; return &listener.Listener{Name: name} })
	s := newStream(t, c, resource.ListenerType, "nope")
	if r := s.recv(); !slices.Equal(names(t, r), []string{"nope"}) {
		t.Fatalf("first response %v, want the placeholder", names(t, r))
	}
	s.ack()
	if r := s.recv(); r == nil || len(r.GetResources()) != 0 {
		t.Fatalf("after the ACK: %v, want a response without the listener (withdrawal)", r)
	}
	s.ack()
	if r := s.recv(); r != nil {
		t.Fatalf("after the withdrawal was ACKed: %v, want nothing (no loop)", names(t, r))
	}
	if built != 1 {
		t.Errorf("placeholder built %d times, want 1", built)
	}
	// The service appears: the parked watch gets the real listener.
	if err := c.Apply(Change{TypeURL: resource.ListenerType, Set: map[string]proto.Message{"nope": &listener.Listener{Name: "nope", StatPrefix: "real"}}}); err != nil {
		t.Fatal(err)
	}
	r := s.recv()
	if !slices.Equal(names(t, r), []string{"nope"}) || s.sub.ReturnedResources()["nope"] == placeholderVersion {
		t.Fatalf("real listener not delivered: %v", r)
	}
	// And when it is deleted, LDS (full state) leaves it out.
	s.ack()
	if err := c.Apply(Change{TypeURL: resource.ListenerType, Delete: []string{"nope"}}); err != nil {
		t.Fatal(err)
	}
	if r := s.recv(); r == nil || len(r.GetResources()) != 0 {
		t.Fatalf("deletion not signalled: %v", r)
	}
}

func TestPlaceholdersWaitForSync(t *testing.T) {
	c := New(nil)
	s := newStream(t, c, resource.ListenerType, "later")
	if r := s.recv(); r == nil || len(r.GetResources()) != 0 {
		t.Fatalf("before sync: %v, want an empty first answer", r)
	}
	s.ack()
	c.EnablePlaceholders(func(name string) proto.Message { return &listener.Listener{Name: name} })
	if r := s.recv(); !slices.Equal(names(t, r), []string{"later"}) {
		t.Fatalf("at sync, a waiting unknown name gets the placeholder; got %v", r)
	}
}

func TestCancelRemovesWatch(t *testing.T) {
	c := New(nil)
	s := newStream(t, c, resource.EndpointType, "x")
	s.recv()
	s.ack()
	if c.WatchCount() != 1 {
		t.Fatalf("watch count %d", c.WatchCount())
	}
	s.cancel()
	s.cancel() // idempotent
	if c.WatchCount() != 0 {
		t.Errorf("watch count %d after cancel", c.WatchCount())
	}
}
