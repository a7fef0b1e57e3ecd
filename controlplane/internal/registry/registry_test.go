package registry

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
)

type counts struct{ services, endpoints, conflicts, rejected int }

func (c *counts) Services(n int)       { c.services = n }
func (c *counts) Endpoints(n int)      { c.endpoints = n }
func (c *counts) AliasConflicts(n int) { c.conflicts = n }
func (c *counts) Rejected()            { c.rejected++ }

func newRegistry() (*Registry, *xdscache.Cache, *counts) {
	c := xdscache.New(nil)
	m := &counts{}
	return New(c, translate.Options{ClusterDomain: "cluster.local"}, m, slog.New(slog.NewTextHandler(io.Discard, nil))), c, m
}

func svc(ns, name string, eps ...string) model.Service {
	s := model.Service{Key: model.ServiceKey{Namespace: ns, Name: name}, Port: 80}
	for _, e := range eps {
		ap := netip.MustParseAddrPort(e)
		s.Endpoints = append(s.Endpoints, model.Endpoint{Address: ap.Addr(), Port: uint32(ap.Port())})
	}
	return s
}

// routeOf returns the route config a listener points at, or "" if absent.
func routeOf(t *testing.T, c *xdscache.Cache, name string) string {
	t.Helper()
	for _, r := range c.Resources(resource.ListenerType) {
		if r.Name == name {
			var m hcm.HttpConnectionManager
			if err := r.Message.(*listener.Listener).GetApiListener().GetApiListener().UnmarshalTo(&m); err != nil {
				t.Fatal(err)
			}
			return m.GetRds().GetRouteConfigName()
		}
	}
	return ""
}

// The short name of a service that exists in two namespaces goes to the first
// namespace, whatever the order of events, and moves when that one goes away.
func TestShortNameConflictIsDeterministic(t *testing.T) {
	for _, order := range [][]string{{"prod", "dev"}, {"dev", "prod"}} {
		r, c, m := newRegistry()
		for _, ns := range order {
			r.Set(svc(ns, "api", "10.0.0.1:80"))
		}
		if got := routeOf(t, c, "api"); got != "kxds/dev/api" {
			t.Errorf("order %v: api → %q, want the dev service", order, got)
		}
		if got := routeOf(t, c, "api.prod:80"); got != "kxds/prod/api" {
			t.Errorf("order %v: api.prod:80 → %q", order, got)
		}
		if m.conflicts != 2 { // "api" and "api:80"
			t.Errorf("order %v: %d conflicts, want 2", order, m.conflicts)
		}
		r.Delete(model.ServiceKey{Namespace: "dev", Name: "api"})
		if got := routeOf(t, c, "api"); got != "kxds/prod/api" {
			t.Errorf("after deleting dev/api: api → %q, want prod", got)
		}
		if routeOf(t, c, "api.dev") != "" || m.conflicts != 0 || m.services != 1 {
			t.Errorf("dev/api not fully withdrawn: api.dev=%q conflicts=%d services=%d", routeOf(t, c, "api.dev"), m.conflicts, m.services)
		}
	}
}

func TestSetCountsAndRejects(t *testing.T) {
	r, c, m := newRegistry()
	r.Set(svc("default", "a", "10.0.0.1:80", "10.0.0.2:80"))
	r.Set(svc("default", "b", "10.0.0.3:80"))
	r.Set(svc("default", "a", "10.0.0.1:80"))
	if m.services != 2 || m.endpoints != 2 {
		t.Errorf("services %d endpoints %d, want 2 and 2", m.services, m.endpoints)
	}
	v := c.Version()
	r.Set(svc("default", "a", "10.0.0.1:80")) // unchanged
	if c.Version() != v {
		t.Error("an unchanged service bumped the version")
	}
	r.Set(svc("default", "c", "10.0.0.1:80", "10.0.0.1:80")) // duplicate endpoint
	if m.rejected != 1 || m.services != 2 {
		t.Errorf("invalid service not rejected: rejected=%d services=%d", m.rejected, m.services)
	}
	select {
	case <-r.Ready():
		t.Fatal("ready before Synced")
	default:
	}
	r.Synced()
	r.Synced()
	<-r.Ready()
}
