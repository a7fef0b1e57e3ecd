package translate

import (
	"net/netip"
	"slices"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/kxds/kxds/controlplane/internal/model"
)

func svc(port uint32, eps ...model.Endpoint) model.Service {
	return model.Service{
		Key:  model.ServiceKey{Namespace: "default", Name: "be1-srv"},
		Port: port, Locality: model.Locality{Region: "r", Zone: "z"}, Endpoints: eps,
	}
}

func ep(addr string, health model.HealthStatus, zone string) model.Endpoint {
	ap := netip.MustParseAddrPort(addr)
	e := model.Endpoint{Address: ap.Addr(), Port: uint32(ap.Port()), Health: health}
	if zone != "" {
		e.Locality = model.Locality{Region: "r", Zone: zone}
	}
	return e
}

func TestAliasesCoverEveryDialableName(t *testing.T) {
	got := Aliases(svc(50051), Options{ClusterDomain: "cluster.local"})
	want := []string{"be1-srv", "be1-srv.default", "be1-srv.default.svc", "be1-srv.default.svc.cluster.local",
		"be1-srv:50051", "be1-srv.default:50051", "be1-srv.default.svc:50051", "be1-srv.default.svc.cluster.local:50051"}
	if !slices.Equal(got, want) {
		t.Errorf("aliases %v, want %v", got, want)
	}
	if got := Aliases(svc(0), Options{}); len(got) != 3 {
		t.Errorf("without port or domain: %v, want 3 names", got)
	}
}

// The rules grpc-go enforces (it NACKs or silently misroutes otherwise).
func TestResourcesMeetGRPCClientRules(t *testing.T) {
	s := svc(50051, ep("10.0.0.2:50051", model.HealthHealthy, ""), ep("10.0.0.1:50051", model.HealthUnknown, ""),
		ep("[fd00::1]:50051", model.HealthHealthy, "z2"), ep("10.0.0.3:50051", model.HealthUnhealthy, ""),
		ep("10.0.0.4:50051", model.HealthDraining, "z2"))
	res := Service(s, Options{ClusterDomain: "cluster.local"})
	l := Listener("be1-srv", RouteName(s.Key))
	for _, m := range []interface{ Validate() error }{l, res.Route, res.Cluster, res.Endpoints, PlaceholderListener("x")} {
		if err := m.Validate(); err != nil {
			t.Errorf("%T: %v", m, err)
		}
	}

	// Listener: api_listener → HCM with RDS over ADS, router filter last.
	var m hcm.HttpConnectionManager
	if err := l.GetApiListener().GetApiListener().UnmarshalTo(&m); err != nil {
		t.Fatal(err)
	}
	if m.GetRds().GetConfigSource().GetAds() == nil || m.GetRds().GetRouteConfigName() != res.Route.GetName() {
		t.Errorf("HCM must use RDS over ADS for %s: %v", res.Route.GetName(), m.GetRds())
	}
	filters := m.GetHttpFilters()
	if len(filters) == 0 || !filters[len(filters)-1].GetTypedConfig().MessageIs(&router.Router{}) {
		t.Errorf("last HTTP filter must be the router: %v", filters)
	}

	// Route: domains include the port-qualified names (matched against the authority).
	vh := res.Route.GetVirtualHosts()
	if len(vh) != 1 || !slices.Contains(vh[0].GetDomains(), "be1-srv:50051") || !slices.Contains(vh[0].GetDomains(), "be1-srv") {
		t.Errorf("virtual host domains %v", vh)
	}
	if vh[0].GetRoutes()[0].GetRoute().GetCluster() != res.Cluster.GetName() {
		t.Errorf("route goes to %v", vh[0].GetRoutes()[0].GetRoute())
	}

	// Cluster: EDS over ADS, round robin.
	if res.Cluster.GetType() != cluster.Cluster_EDS || res.Cluster.GetEdsClusterConfig().GetEdsConfig().GetAds() == nil ||
		res.Cluster.GetEdsClusterConfig().GetServiceName() != res.Endpoints.GetClusterName() || res.Cluster.GetLbPolicy() != cluster.Cluster_ROUND_ROBIN {
		t.Errorf("cluster %v", res.Cluster)
	}

	// Endpoints: only serving ones, localities with weight = serving endpoints.
	type row struct {
		zone   string
		weight uint32
		addrs  []string
	}
	var got []row
	for _, loc := range res.Endpoints.GetEndpoints() {
		r := row{zone: loc.GetLocality().GetZone(), weight: loc.GetLoadBalancingWeight().GetValue()}
		for _, e := range loc.GetLbEndpoints() {
			r.addrs = append(r.addrs, e.GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
			if s := e.GetHealthStatus(); s != core.HealthStatus_HEALTHY && s != core.HealthStatus_UNKNOWN {
				t.Errorf("endpoint with health %v listed", s)
			}
		}
		got = append(got, r)
	}
	want := []row{{"z", 2, []string{"10.0.0.1", "10.0.0.2"}}, {"z2", 1, []string{"fd00::1"}}}
	if len(got) != len(want) {
		t.Fatalf("localities %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].zone != want[i].zone || got[i].weight != want[i].weight || !slices.Equal(got[i].addrs, want[i].addrs) {
			t.Errorf("locality %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Equal input must give equal bytes, or the cache would push unchanged resources.
func TestTranslationIsDeterministic(t *testing.T) {
	a := svc(1, ep("10.0.0.1:1", model.HealthHealthy, "a"), ep("10.0.0.2:1", model.HealthHealthy, "b"))
	b := svc(1, ep("10.0.0.2:1", model.HealthHealthy, "b"), ep("10.0.0.1:1", model.HealthHealthy, "a"))
	ra, rb := Service(a, Options{}), Service(b, Options{})
	if !proto.Equal(ra.Endpoints, rb.Endpoints) {
		t.Errorf("endpoint order changed the resource:\n%v\n%v", ra.Endpoints, rb.Endpoints)
	}
}
