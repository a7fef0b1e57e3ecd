package translate

import (
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
)

// routerFilter is the terminal filter gRPC clients require last in the chain.
var routerFilter = &hcm.HttpFilter{
	Name:       wellknown.Router,
	ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: mustAny(&router.Router{})},
}

var adsSource = &core.ConfigSource{
	ResourceApiVersion:    core.ApiVersion_V3,
	ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}},
}

// Listener is a client-side (api_listener) listener named after what the client
// dialed, whose routes come from RDS over the same ADS stream.
func Listener(name, routeName string) *listener.Listener {
	return apiListener(name, &hcm.HttpConnectionManager{
		RouteSpecifier: &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{
			ConfigSource:    adsSource,
			RouteConfigName: routeName,
		}},
		HttpFilters: []*hcm.HttpFilter{routerFilter},
	})
}

// placeholderRoute is never served: a client holding a placeholder listener
// waits on it (its RPCs queue) until the listener is withdrawn a moment later.
const placeholderRoute = "kxds/unknown-service"

// PlaceholderListener is the valid stand-in sent for a name no service has,
// just before it is withdrawn (see xdscache/placeholders.go).
func PlaceholderListener(name string) *listener.Listener {
	return Listener(name, placeholderRoute)
}

func apiListener(name string, m *hcm.HttpConnectionManager) *listener.Listener {
	return &listener.Listener{
		Name:        name,
		ApiListener: &listener.ApiListener{ApiListener: mustAny(m)},
	}
}

// RouteConfiguration sends every RPC for the service's aliases to its cluster.
func RouteConfiguration(name string, domains []string, cluster string) *route.RouteConfiguration {
	return &route.RouteConfiguration{
		Name: name,
		VirtualHosts: []*route.VirtualHost{{
			Name:    name,
			Domains: domains,
			Routes: []*route.Route{{
				Match: &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"}},
				Action: &route.Route_Route{Route: &route.RouteAction{
					ClusterSpecifier: &route.RouteAction_Cluster{Cluster: cluster},
				}},
			}},
		}},
	}
}
