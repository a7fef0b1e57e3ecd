package kubesource

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/tools/kubetest"
)

// TestWithAPIServer runs the source against a real kube-apiserver. Each
// subtest has its own namespace and its own Source (in namespaced mode), and
// creates EndpointSlices by hand, as the endpointslice controller would.
func TestWithAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Clientset()

	t.Run("ClusterIPServiceEndpointsComeAndGo", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", false, nil, svcPort("grpc", 50051), svcPort("http", 80)))
		slice := mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4,
			withPort("grpc", 8080), withPort("http", 8081), withEndpoints(
				newEndpoint("10.244.1.1", "web-a", readyCond),
				newEndpoint("10.244.1.2", "web-b", readyCond))))

		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns, Services: []WantedService{{
			Key: key, PortName: "grpc", GRPCServiceName: "echo.Echo",
			Locality: model.Locality{Region: "r1", Zone: "z1"}, HealthCheck: true,
		}}})
		sink.waitFor(t, "Synced", sink.isSynced)
		svc, ok := sink.get(key)
		if !ok {
			t.Fatalf("service %s not published before Synced", key)
		}
		if svc.Port != 50051 || svc.GRPCServiceName != "echo.Echo" || !svc.HealthCheck ||
			svc.Locality != (model.Locality{Region: "r1", Zone: "z1"}) {
			t.Errorf("service = %+v; want port 50051 and the configured settings", svc)
		}
		if check := endpointsAre("10.244.1.1:8080 UNKNOWN", "10.244.1.2:8080 UNKNOWN")(svc); check != "" {
			t.Errorf("initial %s", check)
		}
		if svc.Endpoints[0].Hostname != "web-a" {
			t.Errorf("hostname = %q; want the pod name web-a", svc.Endpoints[0].Hostname)
		}

		slice.Endpoints = slice.Endpoints[1:]
		slice = mustUpdateSlice(t, cs, slice)
		sink.waitService(t, key, endpointsAre("10.244.1.2:8080 UNKNOWN"))

		slice.Endpoints = append(slice.Endpoints, newEndpoint("10.244.1.3", "web-c", readyCond))
		mustUpdateSlice(t, cs, slice)
		sink.waitService(t, key, endpointsAre("10.244.1.2:8080 UNKNOWN", "10.244.1.3:8080 UNKNOWN"))

		// All slices gone while the Service exists: published with no endpoints.
		mustDeleteSlice(t, cs, ns, "web-1")
		sink.waitService(t, key, endpointsAre())
	})

	t.Run("HeadlessNotReadyAndTerminating", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
		slice := mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4,
			withPort("grpc", 8080), withEndpoints(newEndpoint("10.244.2.1", "a", readyCond))))
		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitService(t, key, endpointsAre("10.244.2.1:8080 UNKNOWN"))

		slice.Endpoints = []discoveryv1.Endpoint{
			newEndpoint("10.244.2.1", "a", readyCond),
			newEndpoint("10.244.2.2", "b", notReadyCond),
			newEndpoint("10.244.2.3", "c", drainingCond),
			newEndpoint("10.244.2.4", "d", terminatingCond),
		}
		mustUpdateSlice(t, cs, slice)
		sink.waitService(t, key, endpointsAre("10.244.2.1:8080 UNKNOWN", "10.244.2.2:8080 UNHEALTHY",
			"10.244.2.3:8080 DRAINING", "10.244.2.4:8080 UNHEALTHY"))
	})

	t.Run("SecondSliceAndDuplicateAddresses", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
		mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.3.1", "a", readyCond), newEndpoint("10.244.3.2", "b", readyCond))))
		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitService(t, key, endpointsAre("10.244.3.1:8080 UNKNOWN", "10.244.3.2:8080 UNKNOWN"))

		// A second slice adds one address and repeats another as not ready:
		// the ready copy wins.
		mustCreateSlice(t, cs, newSlice(ns, "web-2", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.3.3", "c", readyCond), newEndpoint("10.244.3.2", "b", notReadyCond))))
		sink.waitService(t, key, endpointsAre("10.244.3.1:8080 UNKNOWN", "10.244.3.2:8080 UNKNOWN", "10.244.3.3:8080 UNKNOWN"))

		mustDeleteSlice(t, cs, ns, "web-1")
		sink.waitService(t, key, endpointsAre("10.244.3.2:8080 UNHEALTHY", "10.244.3.3:8080 UNKNOWN"))
	})

	t.Run("IPv6Slice", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
		mustCreateSlice(t, cs, newSlice(ns, "web-v4", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.4.1", "a", readyCond))))
		mustCreateSlice(t, cs, newSlice(ns, "web-v6", "web", discoveryv1.AddressTypeIPv6, withPort("grpc", 8080),
			withEndpoints(newEndpoint("fd00:10:244::4", "a", readyCond))))
		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitService(t, key, endpointsAre("10.244.4.1:8080 UNKNOWN", "[fd00:10:244::4]:8080 UNKNOWN"))
	})

	t.Run("PortRenamed", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		svc := mustCreateService(t, cs, newService(ns, "web", false, nil, svcPort("grpc", 50051)))
		slice := mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.5.1", "a", readyCond))))
		sink, problems, _ := startSource(t, Options{Client: cs, Namespace: ns,
			Services: []WantedService{{Key: key, PortName: "grpc"}}})
		sink.waitService(t, key, endpointsAre("10.244.5.1:8080 UNKNOWN"))

		// The configured port name disappears from the Service: withdrawn, reported once.
		svc.Spec.Ports[0].Name = "grpc-new"
		svc = mustUpdateService(t, cs, svc)
		sink.waitGone(t, key)
		slice.Endpoints = append(slice.Endpoints, newEndpoint("10.244.5.2", "b", readyCond))
		slice = mustUpdateSlice(t, cs, slice)
		barrier(t, cs, sink, ns) // the slice update above has been processed
		if n := problems.count(key, ReasonPortNotFound); n != 1 {
			t.Errorf("port_not_found reported %d times; want once, however many events follow", n)
		}

		// Renamed back: published again with the current slice.
		svc.Spec.Ports[0].Name = "grpc"
		mustUpdateService(t, cs, svc)
		sink.waitService(t, key, endpointsAre("10.244.5.1:8080 UNKNOWN", "10.244.5.2:8080 UNKNOWN"))

		// The slice's port renamed (slices follow the Service): no endpoints on "grpc".
		slice.Ports[0].Name = new("grpc-new")
		mustUpdateSlice(t, cs, slice)
		sink.waitService(t, key, endpointsAre())
	})

	t.Run("ServiceDeleted", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
		mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.6.1", "a", readyCond))))
		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitService(t, key, endpointsAre("10.244.6.1:8080 UNKNOWN"))

		if err := cs.CoreV1().Services(ns).Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		sink.waitGone(t, key)
		if got := sink.eventsFor(key); got[len(got)-1] != "delete "+key.String() {
			t.Errorf("events = %v; want a final delete", got)
		}

		// Recreated: the leftover slice counts again.
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
		sink.waitService(t, key, endpointsAre("10.244.6.1:8080 UNKNOWN"))
	})

	t.Run("AnnotationOptInAndOut", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		plain := model.ServiceKey{Namespace: ns, Name: "plain"}
		svc := mustCreateService(t, cs, newService(ns, "web", false, map[string]string{
			AnnotationEnabled: "true", AnnotationPortName: "http",
			AnnotationGRPCServiceName: "echo.Echo", AnnotationHealthCheck: "false",
		}, svcPort("grpc", 50051), svcPort("http", 80)))
		mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4,
			withPort("grpc", 8080), withPort("http", 8081), withEndpoints(newEndpoint("10.244.7.1", "a", readyCond))))
		mustCreateService(t, cs, newService(ns, "plain", true, nil, svcPort("grpc", 50051)))
		mustCreateSlice(t, cs, newSlice(ns, "plain-1", "plain", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.7.2", "b", readyCond))))

		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitFor(t, "Synced", sink.isSynced)
		got, ok := sink.get(key)
		if !ok || got.Port != 80 || got.GRPCServiceName != "echo.Echo" || got.HealthCheck {
			t.Errorf("annotated service = %+v (published %v); want port 80 (http), echo.Echo, no health check", got, ok)
		}
		if check := endpointsAre("10.244.7.1:8081 UNKNOWN")(got); check != "" {
			t.Error(check)
		}
		if _, ok := sink.get(plain); ok {
			t.Errorf("service %s without annotation published; want ignored", plain)
		}

		svc.Annotations[AnnotationEnabled] = "false"
		mustUpdateService(t, cs, svc)
		sink.waitGone(t, key)
	})

	t.Run("InvalidAnnotationValue", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		svc := mustCreateService(t, cs, newService(ns, "web", true, map[string]string{
			AnnotationEnabled: "true", AnnotationHealthCheck: "yes",
		}, svcPort("grpc", 50051)))
		slice := mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
			withEndpoints(newEndpoint("10.244.8.1", "a", readyCond))))
		sink, problems, logs := startSource(t, Options{Client: cs, Namespace: ns})
		sink.waitFor(t, "Synced", sink.isSynced)
		if _, ok := sink.get(key); ok {
			t.Fatalf("service with an invalid annotation published; want not")
		}
		slice.Endpoints = append(slice.Endpoints, newEndpoint("10.244.8.2", "b", readyCond))
		mustUpdateSlice(t, cs, slice)
		barrier(t, cs, sink, ns)
		if n := problems.count(key, ReasonInvalidAnnotation); n != 1 {
			t.Errorf("invalid_annotation reported %d times; want once", n)
		}
		if n := logs.count("misconfigured"); n != 1 {
			t.Errorf("misconfiguration logged %d times; want once", n)
		}

		svc.Annotations[AnnotationHealthCheck] = "true"
		mustUpdateService(t, cs, svc)
		sink.waitService(t, key, endpointsAre("10.244.8.1:8080 UNKNOWN", "10.244.8.2:8080 UNKNOWN"))
		sink.waitFor(t, "the problem to be logged as resolved", func() bool { return logs.count("resolved") == 1 })
	})

	t.Run("ServiceWithoutTheNamedPort", func(t *testing.T) {
		ns := newNamespace(t, cs)
		annotated := model.ServiceKey{Namespace: ns, Name: "annotated"}
		configured := model.ServiceKey{Namespace: ns, Name: "configured"}
		mustCreateService(t, cs, newService(ns, "annotated", true, map[string]string{
			AnnotationEnabled: "true", AnnotationPortName: "grpc",
		}, svcPort("http", 80)))
		// Two ports and no port name: ambiguous.
		mustCreateService(t, cs, newService(ns, "configured", true, nil, svcPort("grpc", 50051), svcPort("http", 80)))
		sink, problems, _ := startSource(t, Options{Client: cs, Namespace: ns,
			Services: []WantedService{{Key: configured}}})
		sink.waitFor(t, "Synced", sink.isSynced)
		for _, key := range []model.ServiceKey{annotated, configured} {
			if _, ok := sink.get(key); ok {
				t.Errorf("service %s published; want not (no usable port)", key)
			}
			if n := problems.count(key, ReasonPortNotFound); n != 1 {
				t.Errorf("%s: port_not_found reported %d times; want once", key, n)
			}
		}
	})

	t.Run("ConfigWinsOverConflictingAnnotations", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		mustCreateService(t, cs, newService(ns, "web", true, map[string]string{
			AnnotationEnabled: "true", AnnotationPortName: "http", AnnotationHealthCheck: "false",
		}, svcPort("grpc", 50051), svcPort("http", 80)))
		sink, problems, _ := startSource(t, Options{Client: cs, Namespace: ns,
			Services: []WantedService{{Key: key, PortName: "grpc", HealthCheck: true}}})
		got := sink.waitService(t, key, endpointsAre())
		if got.Port != 50051 || !got.HealthCheck {
			t.Errorf("service = %+v; want the config's port 50051 and health check", got)
		}
		if n := problems.count(key, ReasonConfigConflict); n != 1 {
			t.Errorf("config_annotation_conflict reported %d times; want once", n)
		}
	})

	t.Run("AllNamespaces", func(t *testing.T) {
		ns1, ns2 := newNamespace(t, cs), newNamespace(t, cs)
		for _, ns := range []string{ns1, ns2} {
			mustCreateService(t, cs, newService(ns, "web", true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 50051)))
			mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080),
				withEndpoints(newEndpoint("10.244.9.1", "a", readyCond))))
		}
		sink, _, _ := startSource(t, Options{Client: cs,
			Services: []WantedService{{Key: model.ServiceKey{Namespace: "default", Name: "kubernetes"}, PortName: "https"}}})
		sink.waitFor(t, "Synced", sink.isSynced)
		for _, key := range []model.ServiceKey{{Namespace: ns1, Name: "web"}, {Namespace: ns2, Name: "web"}} {
			if svc, ok := sink.get(key); !ok || len(svc.Endpoints) != 1 {
				t.Errorf("service %s = %+v (published %v); want one endpoint", key, svc, ok)
			}
		}
		// The apiserver's own Service exists (its endpoints are not reconciled here).
		if svc, ok := sink.get(model.ServiceKey{Namespace: "default", Name: "kubernetes"}); !ok || svc.Port != 443 {
			t.Errorf("default/kubernetes = %+v (published %v); want port 443", svc, ok)
		}
	})

	t.Run("RegionFromNodes", func(t *testing.T) {
		ns := newNamespace(t, cs)
		key := model.ServiceKey{Namespace: ns, Name: "web"}
		node := mustCreateNode(t, cs, "node-"+ns, map[string]string{corev1.LabelTopologyRegion: "eu-west1"})
		ep := newEndpoint("10.244.10.1", "a", readyCond)
		ep.NodeName, ep.Zone = &node.Name, new("eu-west1-b")
		mustCreateService(t, cs, newService(ns, "web", true, nil, svcPort("grpc", 50051)))
		mustCreateSlice(t, cs, newSlice(ns, "web-1", "web", discoveryv1.AddressTypeIPv4, withPort("grpc", 8080), withEndpoints(ep)))
		sink, _, _ := startSource(t, Options{Client: cs, Namespace: ns, WatchNodes: true, Services: []WantedService{{
			Key: key, PortName: "grpc", Locality: model.Locality{Region: "default-region", Zone: "default-zone"},
		}}})
		locality := func(region string) func(model.Service) string {
			want := model.Locality{Region: region, Zone: "eu-west1-b"}
			return func(s model.Service) string {
				if len(s.Endpoints) != 1 || s.Endpoints[0].Locality != want {
					return fmt.Sprintf("endpoints %+v, want one in %+v", s.Endpoints, want)
				}
				return ""
			}
		}
		sink.waitService(t, key, locality("eu-west1"))

		node.Labels[corev1.LabelTopologyRegion] = "eu-west2"
		if _, err := cs.CoreV1().Nodes().Update(context.Background(), node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		sink.waitService(t, key, locality("eu-west2"))
	})
}

var namespaceSeq atomic.Int32

func newNamespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	name := fmt.Sprintf("kubesource-%d", namespaceSeq.Add(1))
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}

// barrier makes sure the source has processed every event caused before it
// was called: the work queue is FIFO with one worker, so once a change to a
// fresh marker Service shows, earlier events have been handled.
func barrier(t testing.TB, cs kubernetes.Interface, sink *recordingSink, ns string) {
	t.Helper()
	name := fmt.Sprintf("barrier-%d", namespaceSeq.Add(1))
	mustCreateService(t, cs, newService(ns, name, true, map[string]string{AnnotationEnabled: "true"}, svcPort("grpc", 1)))
	sink.waitService(t, model.ServiceKey{Namespace: ns, Name: name}, func(model.Service) string { return "" })
}

func mustCreateService(t testing.TB, cs kubernetes.Interface, s *corev1.Service) *corev1.Service {
	t.Helper()
	got, err := cs.CoreV1().Services(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating service %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

func mustUpdateService(t testing.TB, cs kubernetes.Interface, s *corev1.Service) *corev1.Service {
	t.Helper()
	got, err := cs.CoreV1().Services(s.Namespace).Update(context.Background(), s, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating service %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

func mustCreateSlice(t testing.TB, cs kubernetes.Interface, s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	t.Helper()
	got, err := cs.DiscoveryV1().EndpointSlices(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating EndpointSlice %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

func mustUpdateSlice(t testing.TB, cs kubernetes.Interface, s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	t.Helper()
	got, err := cs.DiscoveryV1().EndpointSlices(s.Namespace).Update(context.Background(), s, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating EndpointSlice %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

func mustDeleteSlice(t testing.TB, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	if err := cs.DiscoveryV1().EndpointSlices(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting EndpointSlice %s/%s: %v", ns, name, err)
	}
}

func mustCreateNode(t testing.TB, cs kubernetes.Interface, name string, labels map[string]string) *corev1.Node {
	t.Helper()
	got, err := cs.CoreV1().Nodes().Create(context.Background(),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
	return got
}
