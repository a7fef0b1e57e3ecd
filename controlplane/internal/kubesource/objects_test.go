package kubesource

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// Builders for the API objects the tests create.

func svcPort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(port + 1000), Protocol: corev1.ProtocolTCP}
}

// newService is a Service without selector (its slices are made by hand);
// headless or with a ClusterIP.
func newService(ns, name string, headless bool, annotations map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
	if headless {
		s.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return s
}

type sliceOpt func(*discoveryv1.EndpointSlice)

func withPort(name string, port int32) sliceOpt {
	return func(s *discoveryv1.EndpointSlice) {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: new(corev1.ProtocolTCP)})
	}
}

func withEndpoints(eps ...discoveryv1.Endpoint) sliceOpt {
	return func(s *discoveryv1.EndpointSlice) { s.Endpoints = append(s.Endpoints, eps...) }
}

// newSlice is an EndpointSlice of service, as a custom controller would make it.
func newSlice(ns, name, service string, family discoveryv1.AddressType, opts ...sliceOpt) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			discoveryv1.LabelServiceName: service,
			discoveryv1.LabelManagedBy:   "kubesource-test.kxds.io",
		}},
		AddressType: family,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// condition values for newEndpoint.
type cond struct{ ready, serving, terminating bool }

var (
	readyCond       = cond{ready: true, serving: true}
	notReadyCond    = cond{}
	drainingCond    = cond{serving: true, terminating: true}
	terminatingCond = cond{terminating: true}
)

func newEndpoint(addr, pod string, c cond) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses: []string{addr},
		Conditions: discoveryv1.EndpointConditions{
			Ready: new(c.ready), Serving: new(c.serving), Terminating: new(c.terminating),
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod},
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// fakeClient is a non-nil client for tests that never reach the API.
func fakeClient() kubernetes.Interface { return &kubernetes.Clientset{} }
