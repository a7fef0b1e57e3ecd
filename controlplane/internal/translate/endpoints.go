package translate

import (
	"cmp"
	"slices"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// ClusterLoadAssignment lists the service's serving endpoints grouped by
// locality. Endpoints that are not serving are left out rather than marked, so
// the client closes their connections once in-flight RPCs finish. Each
// locality weighs as many endpoints as it has, so every endpoint gets an even
// share across localities; gRPC drops a locality whose weight is zero.
func ClusterLoadAssignment(name string, svc model.Service) *endpoint.ClusterLoadAssignment {
	sorted := slices.Clone(svc.Endpoints)
	slices.SortFunc(sorted, func(a, b model.Endpoint) int {
		return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
	})
	byLocality := map[model.Locality][]*endpoint.LbEndpoint{}
	for _, e := range sorted {
		if !e.Health.Serving() {
			continue
		}
		loc := e.Locality
		if loc.IsZero() {
			loc = svc.Locality
		}
		byLocality[loc] = append(byLocality[loc], lbEndpoint(e))
	}
	localities := make([]model.Locality, 0, len(byLocality))
	for loc := range byLocality {
		localities = append(localities, loc)
	}
	slices.SortFunc(localities, func(a, b model.Locality) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.SubZone, b.SubZone))
	})
	cla := &endpoint.ClusterLoadAssignment{ClusterName: name}
	for _, loc := range localities {
		eps := byLocality[loc]
		cla.Endpoints = append(cla.Endpoints, &endpoint.LocalityLbEndpoints{
			Locality:            &core.Locality{Region: loc.Region, Zone: loc.Zone, SubZone: loc.SubZone},
			LbEndpoints:         eps,
			LoadBalancingWeight: wrapperspb.UInt32(uint32(len(eps))),
		})
	}
	return cla
}

func lbEndpoint(e model.Endpoint) *endpoint.LbEndpoint {
	status := core.HealthStatus_UNKNOWN
	if e.Health == model.HealthHealthy {
		status = core.HealthStatus_HEALTHY
	}
	return &endpoint.LbEndpoint{
		HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
			Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
				Address:       e.Address.String(),
				PortSpecifier: &core.SocketAddress_PortValue{PortValue: e.Port},
			}}},
			Hostname: e.Hostname,
		}},
		HealthStatus: status,
	}
}
