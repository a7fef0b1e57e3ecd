package translate

import (
	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// Resources are what one service becomes, except its listeners: which service
// answers an alias is decided across services (see registry), and
// Listener(alias, RouteName(key)) builds each.
type Resources struct {
	Aliases   []string
	Route     *route.RouteConfiguration
	Cluster   *cluster.Cluster
	Endpoints *endpoint.ClusterLoadAssignment
}

// Service translates one service.
func Service(svc model.Service, opts Options) Resources {
	name := ClusterName(svc.Key)
	aliases := Aliases(svc, opts)
	return Resources{
		Aliases:   aliases,
		Route:     RouteConfiguration(RouteName(svc.Key), aliases, name),
		Cluster:   Cluster(name),
		Endpoints: ClusterLoadAssignment(name, svc),
	}
}
