// Package config reads svc_config.json, the list of services kxds serves, in the
// format of the original prototype, and validates it at the edge so the rest of
// kxds only sees well-formed values.
package config

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// ServiceConfig is one entry of "services". Field names and JSON keys are those of
// the original svc_config.json; Port, Endpoints and HealthCheck are kxds additions.
type ServiceConfig struct {
	ServiceName     string `json:"serviceName"`
	Namespace       string `json:"namespace"`
	PortName        string `json:"portName"`
	Protocol        string `json:"protocol"`
	GRPCServiceName string `json:"grpcServiceName"`
	Zone            string `json:"zone"`
	Region          string `json:"region"`

	// Port is the service port clients may dial as xds:///svc:Port. Static
	// discovery only; Kubernetes and DNS discovery learn it.
	Port uint32 `json:"port,omitempty"`
	// Endpoints lists "IP:port" backends. Static discovery only.
	Endpoints []string `json:"endpoints,omitempty"`
	// HealthCheck turns active grpc.health.v1 checking on or off; default on.
	HealthCheck *bool `json:"healthCheck,omitempty"`
}

// Key identifies the service.
func (s ServiceConfig) Key() model.ServiceKey {
	return model.ServiceKey{Namespace: s.Namespace, Name: s.ServiceName}
}

// HealthCheckEnabled applies the default (on).
func (s ServiceConfig) HealthCheckEnabled() bool { return s.HealthCheck == nil || *s.HealthCheck }

// Equal reports whether two entries ask for the same thing, so a reload can
// skip the services it did not change.
func (s ServiceConfig) Equal(o ServiceConfig) bool {
	return s.ServiceName == o.ServiceName && s.Namespace == o.Namespace && s.PortName == o.PortName &&
		s.Protocol == o.Protocol && s.GRPCServiceName == o.GRPCServiceName && s.Zone == o.Zone &&
		s.Region == o.Region && s.Port == o.Port && slices.Equal(s.Endpoints, o.Endpoints) &&
		s.HealthCheckEnabled() == o.HealthCheckEnabled()
}

// Locality is the default locality of the service's endpoints.
func (s ServiceConfig) Locality() model.Locality {
	return model.Locality{Region: s.Region, Zone: s.Zone}
}

// dns1123Label is what Kubernetes accepts as a Service or Namespace name.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ianaSvcName is what Kubernetes accepts as a port name (and SRV uses).
var ianaSvcName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$`)

func (s *ServiceConfig) applyDefaults() {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.Protocol == "" {
		s.Protocol = "tcp"
	}
}

// validate reports the first problem, naming the field.
func (s *ServiceConfig) validate(mode Mode) error {
	if !dns1123Label.MatchString(s.ServiceName) {
		return fieldError("serviceName", "%q is not a valid DNS-1123 label (lowercase letters, digits, '-', at most 63)", s.ServiceName)
	}
	if !dns1123Label.MatchString(s.Namespace) {
		return fieldError("namespace", "%q is not a valid DNS-1123 label", s.Namespace)
	}
	if s.PortName == "" && mode != ModeStatic {
		return fieldError("portName", "is required for %s discovery", mode)
	}
	if s.PortName != "" && !ianaSvcName.MatchString(s.PortName) {
		return fieldError("portName", "%q is not a valid port name (lowercase letters, digits, '-', at most 15)", s.PortName)
	}
	if s.Protocol != "tcp" && s.Protocol != "udp" {
		return fieldError("protocol", "%q: want \"tcp\" or \"udp\"", s.Protocol)
	}
	if s.Port > 65535 {
		return fieldError("port", "%d out of range 1-65535", s.Port)
	}
	if mode != ModeStatic {
		if len(s.Endpoints) > 0 {
			return fieldError("endpoints", "only allowed with static discovery (this is %s discovery)", mode)
		}
		if s.Port != 0 {
			return fieldError("port", "only allowed with static discovery (this is %s discovery)", mode)
		}
	}
	return nil
}

type fieldErr struct {
	field string
	msg   string
}

func (e *fieldErr) Error() string { return e.field + ": " + e.msg }

func fieldError(field, format string, args ...any) error {
	return &fieldErr{field: field, msg: fmt.Sprintf(format, args...)}
}
