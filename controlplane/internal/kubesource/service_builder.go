package kubesource

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// buildService turns a Service, its settings and its EndpointSlices into the
// model. It fails when the Service has no port to serve, which the caller
// reports as ReasonPortNotFound. ClusterIP and headless Services are treated
// alike: both have EndpointSlices, and clients dial endpoints directly.
func buildService(svc *corev1.Service, st settings, epSlices []*discoveryv1.EndpointSlice,
	regionOf func(node string) string) (model.Service, error) {
	port, err := servicePort(svc, st.portName)
	if err != nil {
		return model.Service{}, err
	}
	return model.Service{
		Key:             model.ServiceKey{Namespace: svc.Namespace, Name: svc.Name},
		Port:            uint32(port.Port),
		GRPCServiceName: st.grpcServiceName,
		Locality:        st.locality,
		HealthCheck:     st.healthCheck,
		Endpoints:       endpointsFromSlices(epSlices, port.Name, st.locality, regionOf),
	}, nil
}

// servicePort finds the port named name, or the only port when name is empty.
func servicePort(svc *corev1.Service, name string) (corev1.ServicePort, error) {
	ports := svc.Spec.Ports
	if name == "" {
		if len(ports) == 1 {
			return ports[0], nil
		}
		return corev1.ServicePort{}, fmt.Errorf("service has %d ports (%s) and no port name was given (config portName or annotation %s)",
			len(ports), portNames(ports), AnnotationPortName)
	}
	for _, p := range ports {
		if p.Name == name {
			return p, nil
		}
	}
	return corev1.ServicePort{}, fmt.Errorf("service has no port named %q (ports: %s)", name, portNames(ports))
}

func portNames(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return "none"
	}
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = fmt.Sprintf("%q=%d", p.Name, p.Port)
	}
	return strings.Join(names, ", ")
}
