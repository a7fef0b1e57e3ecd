package kubesource

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/kxds/kxds/controlplane/internal/model"
)

func TestEndpointHealth(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    discoveryv1.EndpointConditions
		want model.HealthStatus
	}{
		{"ready", discoveryv1.EndpointConditions{Ready: new(true), Serving: new(true), Terminating: new(false)}, model.HealthUnknown},
		{"unset means ready", discoveryv1.EndpointConditions{}, model.HealthUnknown},
		{"not ready", discoveryv1.EndpointConditions{Ready: new(false), Serving: new(false)}, model.HealthUnhealthy},
		{"not ready, serving unset", discoveryv1.EndpointConditions{Ready: new(false)}, model.HealthUnhealthy},
		{"terminating and serving", discoveryv1.EndpointConditions{Ready: new(false), Serving: new(true), Terminating: new(true)}, model.HealthDraining},
		{"terminating, not serving", discoveryv1.EndpointConditions{Ready: new(false), Serving: new(false), Terminating: new(true)}, model.HealthUnhealthy},
		{"terminating with publishNotReadyAddresses", discoveryv1.EndpointConditions{Ready: new(true), Serving: new(true), Terminating: new(true)}, model.HealthDraining},
	} {
		if got := endpointHealth(tc.c); got != tc.want {
			t.Errorf("%s: endpointHealth = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestEndpointsFromSlices(t *testing.T) {
	withZone := newEndpoint("10.0.0.3", "pod-c", readyCond)
	withZone.Zone, withZone.NodeName = new("zone-b"), new("node-b")
	epSlices := []*discoveryv1.EndpointSlice{
		newSlice("ns", "a", "svc", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080), withEndpoints(
			newEndpoint("10.0.0.1", "pod-a", readyCond),
			newEndpoint("10.0.0.2", "pod-b", notReadyCond),
			withZone,
		)),
		// The same addresses again, with other health: the best one wins.
		newSlice("ns", "b", "svc", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080), withEndpoints(
			newEndpoint("10.0.0.1", "pod-a", notReadyCond),
			newEndpoint("10.0.0.2", "pod-b", drainingCond),
		)),
		newSlice("ns", "v6", "svc", discoveryv1.AddressTypeIPv6, withPort("grpc", 8080), withEndpoints(
			newEndpoint("fd00::1", "pod-d", readyCond),
		)),
		// Other port name (a rename in progress): ignored.
		newSlice("ns", "old", "svc", discoveryv1.AddressTypeIPv4, withPort("old", 9090), withEndpoints(
			newEndpoint("10.0.0.9", "pod-z", readyCond),
		)),
		newSlice("ns", "fqdn", "svc", discoveryv1.AddressTypeFQDN, withPort("grpc", 8080), withEndpoints(
			newEndpoint("backend.example", "pod-y", readyCond),
		)),
	}
	defaults := model.Locality{Region: "r1", Zone: "z1"}
	regions := map[string]string{"node-b": "r2"}
	got := endpointsFromSlices(epSlices, "grpc", defaults, func(n string) string { return regions[n] })

	want := []model.Endpoint{
		{Address: mustAddr("10.0.0.1"), Port: 8080, Health: model.HealthUnknown, Hostname: "pod-a"},
		{Address: mustAddr("10.0.0.2"), Port: 8080, Health: model.HealthDraining, Hostname: "pod-b"},
		{Address: mustAddr("10.0.0.3"), Port: 8080, Health: model.HealthUnknown, Hostname: "pod-c",
			Locality: model.Locality{Region: "r2", Zone: "zone-b"}},
		{Address: mustAddr("fd00::1"), Port: 8080, Health: model.HealthUnknown, Hostname: "pod-d"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d endpoints %+v; want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("endpoint %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestEndpointLocalityFillsFromDefaults(t *testing.T) {
	e := newEndpoint("10.0.0.1", "p", readyCond)
	e.Zone = new("zone-x")
	got := endpointLocality(e, model.Locality{Region: "r1", Zone: "z1"}, nil)
	if want := (model.Locality{Region: "r1", Zone: "zone-x"}); got != want {
		t.Errorf("locality = %+v; want %+v", got, want)
	}
	if got := endpointLocality(newEndpoint("10.0.0.1", "p", readyCond), model.Locality{Region: "r1"}, nil); !got.IsZero() {
		t.Errorf("locality without zone or region = %+v; want zero (inherit the service's)", got)
	}
}
