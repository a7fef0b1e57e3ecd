package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
)

// xdsClient is a lightweight stand-in for one grpc-go process: one ADS stream,
// its own node ID, and the same sequence grpc-go follows for each target it
// dials: LDS → RDS → CDS → EDS, each subscription naming exactly what the
// previous type referenced, and an ACK for every response. It decodes every
// resource, as grpc-go does, but never dials the endpoints.
type xdsClient struct {
	id      int
	targets []int
	tr      *tracker
	stream  discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	subs    map[string]*subscription
	// What the resources received so far point at: RDS and EDS responses may
	// carry a subset (not full state), LDS and CDS carry everything.
	routeOf   map[string]string // listener → route configuration
	clusterOf map[string]string // route configuration → cluster
	edsOf     map[string]string // cluster → EDS service name
}

type subscription struct {
	names          []string
	version, nonce string
}

func newClient(id int, targets []int, tr *tracker) *xdsClient {
	return &xdsClient{
		id: id, targets: targets, tr: tr,
		subs:    map[string]*subscription{},
		routeOf: map[string]string{}, clusterOf: map[string]string{}, edsOf: map[string]string{},
	}
}

// run holds the stream until ctx ends.
func (c *xdsClient) run(ctx context.Context, conn *grpc.ClientConn) error {
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	c.stream = stream
	names := make([]string, len(c.targets))
	for i, s := range c.targets {
		names[i] = targetName(s)
	}
	// grpc-go sends the node only in the stream's first request.
	node := &core.Node{Id: "bench-client-" + strconv.Itoa(c.id), UserAgentName: "kxds-bench"}
	if err := c.subscribe(resource.ListenerType, names, node); err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("client %d: %w", c.id, err)
		}
		c.tr.responses.Add(1)
		if err := c.handle(resp); err != nil {
			return fmt.Errorf("client %d: %w", c.id, err)
		}
	}
}

// subscribe (re)states the names wanted for a type, if they changed.
func (c *xdsClient) subscribe(typeURL string, names []string, node *core.Node) error {
	slices.Sort(names)
	s := c.subs[typeURL]
	if s == nil {
		s = &subscription{}
		c.subs[typeURL] = s
	} else if slices.Equal(s.names, names) {
		return nil
	}
	s.names = names
	return c.stream.Send(&discovery.DiscoveryRequest{
		Node: node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: s.version, ResponseNonce: s.nonce,
	})
}

func (c *xdsClient) ack(typeURL string, resp *discovery.DiscoveryResponse) error {
	s := c.subs[typeURL]
	s.version, s.nonce = resp.GetVersionInfo(), resp.GetNonce()
	return c.stream.Send(&discovery.DiscoveryRequest{
		TypeUrl: typeURL, ResourceNames: s.names, VersionInfo: s.version, ResponseNonce: s.nonce,
	})
}

func (c *xdsClient) handle(resp *discovery.DiscoveryResponse) error {
	typeURL := resp.GetTypeUrl()
	if c.subs[typeURL] == nil {
		return fmt.Errorf("response of unsubscribed type %s", typeURL)
	}
	switch typeURL {
	case resource.ListenerType:
		clear(c.routeOf) // full state
		for _, a := range resp.GetResources() {
			var l listener.Listener
			var m hcm.HttpConnectionManager
			if err := a.UnmarshalTo(&l); err != nil {
				return err
			}
			if err := l.GetApiListener().GetApiListener().UnmarshalTo(&m); err != nil {
				return fmt.Errorf("listener %s: %w", l.GetName(), err)
			}
			c.routeOf[l.GetName()] = m.GetRds().GetRouteConfigName()
		}
		if err := c.ack(typeURL, resp); err != nil {
			return err
		}
		return c.subscribe(resource.RouteType, values(c.routeOf), nil)
	case resource.RouteType:
		for _, a := range resp.GetResources() {
			var r route.RouteConfiguration
			if err := a.UnmarshalTo(&r); err != nil {
				return err
			}
			c.clusterOf[r.GetName()] = r.GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetCluster()
		}
		if err := c.ack(typeURL, resp); err != nil {
			return err
		}
		return c.subscribe(resource.ClusterType, values(c.clusterOf), nil)
	case resource.ClusterType:
		clear(c.edsOf) // full state
		for _, a := range resp.GetResources() {
			var cl cluster.Cluster
			if err := a.UnmarshalTo(&cl); err != nil {
				return err
			}
			c.edsOf[cl.GetName()] = cl.GetEdsClusterConfig().GetServiceName()
		}
		if err := c.ack(typeURL, resp); err != nil {
			return err
		}
		return c.subscribe(resource.EndpointType, values(c.edsOf), nil)
	case resource.EndpointType:
		type got struct {
			target int
			st     edsState
		}
		var all []got
		for _, a := range resp.GetResources() {
			var cla endpoint.ClusterLoadAssignment
			if err := a.UnmarshalTo(&cla); err != nil {
				return err
			}
			s, ok := serviceIndex(cla.GetClusterName())
			i := slices.Index(c.targets, s)
			if !ok || i < 0 {
				return fmt.Errorf("EDS for %q, which it did not ask for", cla.GetClusterName())
			}
			all = append(all, got{i, claState(&cla)})
		}
		if err := c.ack(typeURL, resp); err != nil {
			return err
		}
		// Propagation ends when the ACK is on its way.
		now := time.Now()
		for _, g := range all {
			c.tr.acked(c.id, g.target, g.st, now)
		}
	}
	return nil
}

// values lists the distinct names a type references.
func values(m map[string]string) []string {
	set := map[string]struct{}{}
	for v := range maps.Values(m) {
		set[v] = struct{}{}
	}
	return slices.Collect(maps.Keys(set))
}
