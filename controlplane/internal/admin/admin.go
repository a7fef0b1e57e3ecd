// Package admin serves kxds' operational HTTP endpoints: health, readiness,
// Prometheus metrics and JSON views of the current resources and clients.
package admin

import (
	"encoding/json"
	"net/http"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
)

// Sources of what the pages show; each is a method of a kxds component.
type Sources struct {
	Ready    func() bool
	Services func() []model.Service
	Cache    *xdscache.Cache
	Clients  func() []any
	// Health is the health checker's per-endpoint view (nil when off).
	Health   func() any
	Registry *prometheus.Registry
}

// NewHandler returns the admin mux.
func NewHandler(s Sources) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready: discovery has not synced yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/config", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, configView(s))
	})
	mux.HandleFunc("GET /debug/clients", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"clients": s.Clients()})
	})
	return mux
}

type endpointView struct {
	Address  string `json:"address"`
	Hostname string `json:"hostname,omitempty"`
	Health   string `json:"health"`
	Locality string `json:"locality,omitempty"`
}

type serviceView struct {
	Service         string         `json:"service"`
	Port            uint32         `json:"port,omitempty"`
	GRPCServiceName string         `json:"grpcServiceName,omitempty"`
	HealthCheck     bool           `json:"healthCheck"`
	Endpoints       []endpointView `json:"endpoints"`
}

type resourceView struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Resource json.RawMessage `json:"resource"`
}

func configView(s Sources) any {
	services := []serviceView{}
	for _, svc := range s.Services() {
		v := serviceView{Service: svc.Key.String(), Port: svc.Port, GRPCServiceName: svc.GRPCServiceName, HealthCheck: svc.HealthCheck, Endpoints: []endpointView{}}
		for _, e := range svc.Endpoints {
			loc := e.Locality
			if loc.IsZero() {
				loc = svc.Locality
			}
			v.Endpoints = append(v.Endpoints, endpointView{
				Address: e.HostPort(), Hostname: e.Hostname, Health: e.Health.String(),
				Locality: joinNonEmpty(loc.Region, loc.Zone, loc.SubZone),
			})
		}
		services = append(services, v)
	}
	resources := map[string][]resourceView{}
	for _, t := range []struct{ key, url string }{
		{"listeners", resource.ListenerType}, {"routes", resource.RouteType},
		{"clusters", resource.ClusterType}, {"endpoints", resource.EndpointType},
	} {
		list := []resourceView{}
		for _, r := range s.Cache.Resources(t.url) {
			b, err := protojson.Marshal(r.Message)
			if err != nil {
				b, _ = json.Marshal(err.Error())
			}
			list = append(list, resourceView{Name: r.Name, Version: r.Version, Resource: b})
		}
		resources[t.key] = list
	}
	return map[string]any{"version": s.Cache.Version(), "services": services, "healthChecks": s.Health(), "resources": resources}
}

func joinNonEmpty(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += "/"
		}
		out += p
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
