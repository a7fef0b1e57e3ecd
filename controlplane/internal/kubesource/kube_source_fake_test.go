package kubesource

import (
	"context"
	"slices"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// TestRunWithFakeClientset covers the Run life cycle without an API server:
// the initial state is sent before Synced, and a deleted Service is deleted.
// The same behaviours are tested against a real kube-apiserver in
// kube_source_test.go; this one runs everywhere in milliseconds.
func TestRunWithFakeClientset(t *testing.T) {
	key := model.ServiceKey{Namespace: "ns", Name: "web"}
	cs := fake.NewClientset(
		newService("ns", "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)),
		newSlice("ns", "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.0.1", "web-a", readyCond))),
		newService("ns", "ignored", true, nil, svcPort("grpc", 50051)),
	)
	sink, _, _ := startSource(t, Options{Client: cs})
	sink.waitFor(t, "Synced", sink.isSynced)
	if got, want := sink.eventsFor(key), []string{"set ns/web"}; !slices.Equal(got, want) {
		t.Fatalf("events for %s = %v; want %v", key, got, want)
	}
	sink.mu.Lock()
	first := slices.Index(sink.events, "synced")
	sink.mu.Unlock()
	if first != 1 {
		t.Errorf("events = %v; want the initial set before synced", sink.events)
	}
	svc, _ := sink.get(key)
	if svc.Port != 50051 || !svc.HealthCheck || len(svc.Endpoints) != 1 || svc.Endpoints[0].HostPort() != "10.244.0.1:8080" {
		t.Errorf("service = %+v", svc)
	}

	if err := cs.CoreV1().Services("ns").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	sink.waitGone(t, key)
}
