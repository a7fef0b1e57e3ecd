package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kxds/kxds/controlplane/internal/kxds"
)

// A NACK is recorded and not answered by re-sending the rejected resource (a
// NACK storm); the next real change is still pushed.
func TestNACKIsRecordedNotResent(t *testing.T) {
	a, b := startBackend(t, "pod-a"), startBackend(t, "pod-b")
	// Without health checking, nothing but a re-send could push a second
	// version before the config changes.
	cp := startControlPlaneWith(t, func(o *kxds.Options) { o.HealthCheck = false }, service("be1-srv", a))
	conn, err := grpc.NewClient(cp.xdsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	responses := make(chan *discovery.DiscoveryResponse, 100)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				close(responses)
				return
			}
			responses <- r
		}
	}()
	names := []string{"kxds/default/be1-srv"}
	send := func(r *discovery.DiscoveryRequest) {
		t.Helper()
		r.TypeUrl, r.ResourceNames = resource.EndpointType, names
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(wait time.Duration) *discovery.DiscoveryResponse {
		select {
		case r := <-responses:
			return r
		case <-time.After(wait):
			return nil
		}
	}

	send(&discovery.DiscoveryRequest{Node: &core.Node{Id: "nacker"}})
	first := recv(5 * time.Second)
	if first == nil || len(first.GetResources()) != 1 {
		t.Fatalf("first response: %v", first)
	}
	send(&discovery.DiscoveryRequest{
		ResponseNonce: first.GetNonce(),
		ErrorDetail:   &status.Status{Code: 3, Message: "test: rejected on purpose"},
	})
	if r := recv(500 * time.Millisecond); r != nil {
		t.Fatalf("kxds answered a NACK with another response (version %s): a NACK storm", r.GetVersionInfo())
	}
	if got := cp.metric(`kxds_xds_nacks_total{type="` + resource.EndpointType + `"}`); got != "1" {
		t.Errorf("NACK metric = %s, want 1", got)
	}
	var clients struct {
		Clients []struct {
			NodeID string `json:"nodeId"`
			Types  map[string]struct {
				LastNACK *struct {
					Version string `json:"version"`
					Error   string `json:"error"`
				} `json:"lastNack"`
			} `json:"types"`
		} `json:"clients"`
	}
	if err := cp.get("/debug/clients", &clients); err != nil {
		t.Fatal(err)
	}
	if len(clients.Clients) != 1 || clients.Clients[0].NodeID != "nacker" {
		t.Fatalf("/debug/clients: %+v", clients)
	}
	nack := clients.Clients[0].Types[resource.EndpointType].LastNACK
	if nack == nil || nack.Error != "test: rejected on purpose" || nack.Version != first.GetVersionInfo() {
		t.Errorf("last NACK shown as %+v, want the error text and version %s", nack, first.GetVersionInfo())
	}

	// A new version of the resource is still delivered.
	cp.writeConfig(service("be1-srv", a, b))
	next := recv(5 * time.Second)
	if next == nil {
		t.Fatal("no push after a real change")
	}
	var cla endpoint.ClusterLoadAssignment
	if err := next.GetResources()[0].UnmarshalTo(&cla); err != nil {
		t.Fatal(err)
	}
	if n := len(cla.GetEndpoints()[0].GetLbEndpoints()); n != 2 {
		t.Errorf("pushed %d endpoints, want 2", n)
	}
	if !strings.HasPrefix(next.GetTypeUrl(), "type.googleapis.com/") || next.GetVersionInfo() == first.GetVersionInfo() {
		t.Errorf("push has type %s version %s", next.GetTypeUrl(), next.GetVersionInfo())
	}
}
