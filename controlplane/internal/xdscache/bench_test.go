package xdscache

import (
	"fmt"
	"strconv"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/proto"
)

// benchCLA is a realistic EDS resource: 10 endpoints; gen changes one of them.
func benchCLA(name string, gen int) *endpoint.ClusterLoadAssignment {
	cla := &endpoint.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpoint.LocalityLbEndpoints{{
		Locality: &core.Locality{Region: "r", Zone: "z"},
	}}}
	for i := range 10 {
		port := uint32(50051)
		if i == 0 {
			port += uint32(gen % 1000)
		}
		cla.Endpoints[0].LbEndpoints = append(cla.Endpoints[0].LbEndpoints, &endpoint.LbEndpoint{
			HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
				Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
					Address: fmt.Sprintf("10.0.0.%d", i+1), PortSpecifier: &core.SocketAddress_PortValue{PortValue: port}}}},
				Hostname: "pod-" + strconv.Itoa(i),
			}},
		})
	}
	return cla
}

func edsName(i int) string { return "kxds/default/svc-" + strconv.Itoa(i) }

// loadEDS fills the cache with n EDS resources.
func loadEDS(b *testing.B, c *Cache, n int) {
	ch := Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{}}
	for i := range n {
		ch.Set[edsName(i)] = benchCLA(edsName(i), 0)
	}
	if err := c.Apply(ch); err != nil {
		b.Fatal(err)
	}
}

// benchStream is one client's EDS subscription, ACKed the way
// go-control-plane's server does it: record what was returned, then re-arm.
type benchStream struct {
	names  []string
	sub    stream.Subscription
	out    chan cache.Response
	cancel func()
}

func newBenchStream(b *testing.B, c *Cache, names []string) *benchStream {
	s := &benchStream{names: names, sub: stream.NewSotwSubscription(names, false), out: make(chan cache.Response, 1)}
	s.arm(b, c, "")
	s.ack(b, c)
	return s
}

func (s *benchStream) arm(b *testing.B, c *Cache, version string) {
	if s.cancel != nil {
		s.cancel()
	}
	cancel, err := c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: s.names, VersionInfo: version}, s.sub, s.out)
	if err != nil {
		b.Fatal(err)
	}
	s.cancel = cancel
}

// ack takes the pending response and re-arms the watch with its version.
func (s *benchStream) ack(b *testing.B, c *Cache) {
	r := <-s.out
	s.sub.SetReturnedResources(r.GetReturnedResources())
	v, _ := r.GetVersion()
	s.arm(b, c, v)
}

// Apply of one changed endpoint resource with nobody watching: the marshal
// and the bookkeeping, once per version whatever the number of clients.
func BenchmarkApplyEndpointChange(b *testing.B) {
	c := New(nil)
	loadEDS(b, c, 1000)
	b.ReportAllocs()
	gen := 0
	for b.Loop() {
		gen++
		if err := c.Apply(Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{edsName(7): benchCLA(edsName(7), gen)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// Fan-out: one endpoint change with W subscribers (each subscribed to 10
// names, as a client dialing 10 services), including every subscriber's ACK
// re-arming its watch. Cost should grow with W only.
func BenchmarkFanOut(b *testing.B) {
	for _, w := range []int{1, 10, 100, 1000} {
		b.Run("watches="+strconv.Itoa(w), func(b *testing.B) {
			c := New(nil)
			loadEDS(b, c, 1000)
			streams := make([]*benchStream, w)
			for i := range streams {
				names := []string{edsName(0)}
				for j := 1; j < 10; j++ {
					names = append(names, edsName((i*9+j)%999+1))
				}
				streams[i] = newBenchStream(b, c, names)
			}
			cla := benchCLA(edsName(0), 1)
			b.ReportAllocs()
			gen := 0
			for b.Loop() {
				gen++
				cla.Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetSocketAddress().PortSpecifier = &core.SocketAddress_PortValue{PortValue: uint32(1 + gen%60000)}
				if err := c.Apply(Change{TypeURL: resource.EndpointType, Set: map[string]proto.Message{edsName(0): cla}}); err != nil {
					b.Fatal(err)
				}
				for _, s := range streams {
					s.ack(b, c)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*w), "ns/watch")
		})
	}
}

// respond is the per-request work: an ACK of the current state (nothing to
// send, the common case: CreateWatch's check) and a push of one changed
// resource out of 10 (what notify builds).
func BenchmarkRespond(b *testing.B) {
	c := New(nil)
	loadEDS(b, c, 1000)
	var names []string
	for i := range 10 {
		names = append(names, edsName(i))
	}
	s := newBenchStream(b, c, names)
	s.cancel()
	t := c.tables[resource.EndpointType]
	w := &watch{req: &discovery.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: names}, sub: s.sub, out: s.out}
	b.Run("ack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.mu.Lock()
			ok := c.upToDate(t, w, w.sub.ReturnedResources())
			c.mu.Unlock()
			if !ok {
				b.Fatal("up-to-date watch answered")
			}
		}
	})
	b.Run("push", func(b *testing.B) {
		known := map[string]string{}
		for k, v := range s.sub.ReturnedResources() {
			known[k] = v
		}
		known[edsName(3)] = "stale"
		sub := stream.NewSotwSubscription(names, false)
		sub.SetReturnedResources(known)
		w.sub = sub
		b.ReportAllocs()
		for b.Loop() {
			c.mu.Lock()
			r := c.respond(t, w, false)
			c.mu.Unlock()
			if r == nil {
				b.Fatal("stale watch not answered")
			}
		}
	})
}
