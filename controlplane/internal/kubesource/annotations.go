package kubesource

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
)

// Annotations by which a Service opts in to kxds without being in the config file.
const (
	AnnotationPrefix = "xds.kxds.io/"
	// AnnotationEnabled "true" opts the Service in; "false" or absence does not.
	AnnotationEnabled = AnnotationPrefix + "enabled"
	// AnnotationPortName names the Service port to serve; optional when the
	// Service has a single port.
	AnnotationPortName = AnnotationPrefix + "port-name"
	// AnnotationGRPCServiceName is the grpc.health.v1 service name; default "".
	AnnotationGRPCServiceName = AnnotationPrefix + "grpc-service-name"
	// AnnotationHealthCheck "true" or "false" turns active health checking
	// on or off; default "true", as in the config file.
	AnnotationHealthCheck = AnnotationPrefix + "health-check"
)

var (
	// dns1123Label is what Kubernetes accepts as a Service or Namespace name.
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// portName is what Kubernetes accepts as a port name (IANA_SVC_NAME).
	portName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$`)
)

// annotationSettings is what a Service's annotations ask for. The set* fields
// record which annotations were present, to compare only those with a config
// entry.
type annotationSettings struct {
	enabled              bool
	portName             string
	grpcServiceName      string
	healthCheck          bool
	setPortName, setGRPC bool
	setHealthCheck       bool
	unknown              []string // keys under the prefix this version does not know
}

// parseAnnotations reads the xds.kxds.io/ annotations of svc. A Service that is
// not enabled yields enabled == false and no error, whatever else it carries.
func parseAnnotations(svc *corev1.Service) (annotationSettings, error) {
	a := svc.Annotations
	s := annotationSettings{healthCheck: true}
	switch v, ok := a[AnnotationEnabled]; {
	case !ok || v == "false":
		return s, nil
	case v == "true":
		s.enabled = true
	default:
		return s, fmt.Errorf("annotation %s: %q: want \"true\" or \"false\"", AnnotationEnabled, v)
	}
	if v, ok := a[AnnotationPortName]; ok {
		if !portName.MatchString(v) {
			return s, fmt.Errorf("annotation %s: %q is not a valid port name (lowercase letters, digits, '-', at most 15)", AnnotationPortName, v)
		}
		s.portName, s.setPortName = v, true
	}
	if v, ok := a[AnnotationGRPCServiceName]; ok {
		if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			return s, fmt.Errorf("annotation %s: %q contains spaces or control characters", AnnotationGRPCServiceName, v)
		}
		s.grpcServiceName, s.setGRPC = v, true
	}
	if v, ok := a[AnnotationHealthCheck]; ok {
		switch v {
		case "true", "false":
			s.healthCheck, s.setHealthCheck = v == "true", true
		default:
			return s, fmt.Errorf("annotation %s: %q: want \"true\" or \"false\"", AnnotationHealthCheck, v)
		}
	}
	for k := range a {
		switch k {
		case AnnotationEnabled, AnnotationPortName, AnnotationGRPCServiceName, AnnotationHealthCheck:
		default:
			if strings.HasPrefix(k, AnnotationPrefix) {
				s.unknown = append(s.unknown, k)
			}
		}
	}
	sort.Strings(s.unknown)
	return s, nil
}
