// Package model is kxds' single source of truth: the services clients may dial and
// the endpoints behind them, as plain Go values with no xDS or Kubernetes types.
// Sources produce it, the health checker refines it, the translator turns it into
// xDS resources.
package model

import (
	"fmt"
	"net/netip"
	"slices"
)

// ServiceKey names a service the way Kubernetes does.
type ServiceKey struct {
	Namespace string
	Name      string
}

func (k ServiceKey) String() string { return k.Namespace + "/" + k.Name }

// Service is one dialable service and its endpoints.
type Service struct {
	Key ServiceKey
	// Port is the service port clients may put in their target
	// (xds:///svc:Port). Zero when unknown: then only port-less names resolve.
	Port uint32
	// GRPCServiceName is the service name sent in grpc.health.v1 checks.
	GRPCServiceName string
	// Locality is used for endpoints that do not carry their own.
	Locality Locality
	// HealthCheck turns active gRPC health checking on for this service.
	HealthCheck bool
	Endpoints   []Endpoint
}

// Clone returns a deep copy, so a receiver may keep or edit it freely.
func (s Service) Clone() Service {
	s.Endpoints = slices.Clone(s.Endpoints)
	return s
}

// Equal reports whether two services would translate to the same resources.
func (s Service) Equal(o Service) bool {
	return s.Key == o.Key && s.Port == o.Port && s.GRPCServiceName == o.GRPCServiceName &&
		s.Locality == o.Locality && s.HealthCheck == o.HealthCheck && slices.Equal(s.Endpoints, o.Endpoints)
}

// Validate checks the invariants the translator relies on.
func (s Service) Validate() error {
	if s.Key.Name == "" || s.Key.Namespace == "" {
		return fmt.Errorf("service %q: name and namespace are required", s.Key)
	}
	seen := make(map[netip.AddrPort]bool, len(s.Endpoints))
	for i, e := range s.Endpoints {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("service %s: endpoints[%d]: %w", s.Key, i, err)
		}
		if seen[e.AddrPort()] {
			return fmt.Errorf("service %s: endpoints[%d]: duplicate address %s", s.Key, i, e.HostPort())
		}
		seen[e.AddrPort()] = true
	}
	return nil
}
