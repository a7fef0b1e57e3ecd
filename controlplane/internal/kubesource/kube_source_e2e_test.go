package kubesource

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/tools/kubetest"
)

// TestDeploymentScaling is the whole Kubernetes path: a Deployment and a
// headless Service, pods made Running/Ready by the fake kubelet, slices made
// by the real endpointslice controller, and the source following the scale.
func TestDeploymentScaling(t *testing.T) {
	c := kubetest.Start(t)
	c.StartControllerManager(t)
	kubelet := c.StartFakeKubelet(t, kubetest.FakeKubeletOptions{
		NodeName:   "node-1",
		PodCIDR:    netip.MustParsePrefix("10.244.1.0/24"),
		NodeLabels: map[string]string{corev1.LabelTopologyZone: "zone-a"},
	})
	cs := c.Clientset()
	ctx := context.Background()
	const ns = "default"
	key := model.ServiceKey{Namespace: ns, Name: "echo"}

	c.DeployApp(t, kubetest.App{Namespace: ns, Deployment: "echo", NodeName: kubelet.NodeName(), Replicas: 2, ServicePort: 8000})

	sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns, Services: []WantedService{{
		Key: key, PortName: "grpc", Locality: model.Locality{Region: "region-1"},
	}}})
	servingEndpoints := func(want int) func(model.Service) string {
		return func(svc model.Service) string {
			if svc.Port != 8000 {
				return fmt.Sprintf("port %d, want the Service port 8000", svc.Port)
			}
			for _, e := range svc.Endpoints {
				if !e.Health.Serving() || e.Port != 50051 || !strings.HasPrefix(e.Hostname, "echo-") ||
					e.Locality != (model.Locality{Region: "region-1", Zone: "zone-a"}) {
					return fmt.Sprintf("endpoint %+v, want a serving pod on 50051 in region-1/zone-a", e)
				}
			}
			if len(svc.Endpoints) != want {
				return fmt.Sprintf("%d endpoints %v, want %d", len(svc.Endpoints), describeEndpoints(svc), want)
			}
			return ""
		}
	}

	for _, replicas := range []int{2, 5, 1} {
		begin := time.Now()
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "echo", types.MergePatchType,
			fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		svc := sink.waitService(t, key, servingEndpoints(replicas))
		t.Logf("%d replicas -> %d endpoints %v in %v", replicas, len(svc.Endpoints), describeEndpoints(svc),
			time.Since(begin).Round(time.Millisecond))
	}
}

// TestAPIServerUnavailable: the source waits (without Synced) while the API
// server is down at start, and keeps its state while it goes away later.
func TestAPIServerUnavailable(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Clientset()
	ns := newNamespace(t, cs)
	key := model.ServiceKey{Namespace: ns, Name: "web"}
	mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
	slice := mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
		withEndpoints(newEndpoint("10.244.11.1", "a", readyCond))))

	c.StopAPIServer(t)
	sink, _, logs := startSource(t, Options{Client: cs, Namespace: ns, APICheckInterval: 50 * time.Millisecond})
	sink.waitFor(t, "the source to log that it waits", func() bool { return logs.count(msgWaitingForSync) > 0 })
	if sink.isSynced() {
		t.Fatal("Synced called while the API server is down")
	}
	c.RestartAPIServer(t)
	sink.waitFor(t, "Synced after the API server came back", sink.isSynced)
	sink.waitService(t, key, endpointsAre("10.244.11.1:8080 UNKNOWN"))

	// Down during a run: the last known state stays.
	c.StopAPIServer(t)
	sink.waitFor(t, "the source to log the outage", func() bool { return logs.count(msgAPIUnreachable) > 0 })
	if got, ok := sink.get(key); !ok || len(got.Endpoints) != 1 {
		t.Fatalf("during the outage: service %+v (published %v); want it kept with its endpoint", got, ok)
	}
	c.RestartAPIServer(t)
	sink.waitFor(t, "the source to log the recovery", func() bool { return logs.count(msgAPIReachable) > 0 })

	// The informers reconnect and follow changes again.
	slice.Endpoints = append(slice.Endpoints, newEndpoint("10.244.11.2", "b", readyCond))
	mustUpdateSlice(t, cs, slice)
	sink.waitService(t, key, endpointsAre("10.244.11.1:8080 UNKNOWN", "10.244.11.2:8080 UNKNOWN"))
	if events := sink.eventsFor(key); slices.Contains(events, "delete "+key.String()) {
		t.Errorf("events = %v; want no delete across the outages", events)
	}
}
