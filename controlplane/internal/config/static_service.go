package config

import (
	"fmt"
	"net/netip"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// StaticService builds the model of a service whose endpoints are listed in the
// file. Without an explicit port, the port is taken from the endpoints when they
// all agree, so xds:///svc:port works in the common case.
func (s ServiceConfig) StaticService() (model.Service, error) {
	svc := model.Service{
		Key:             s.Key(),
		Port:            s.Port,
		GRPCServiceName: s.GRPCServiceName,
		Locality:        s.Locality(),
		HealthCheck:     s.HealthCheckEnabled(),
		Endpoints:       make([]model.Endpoint, 0, len(s.Endpoints)),
	}
	seen := make(map[netip.AddrPort]int, len(s.Endpoints))
	for i, raw := range s.Endpoints {
		e, err := model.ParseEndpoint(raw)
		if err != nil {
			return model.Service{}, fieldError(fmt.Sprintf("endpoints[%d]", i), "%v", err)
		}
		if j, dup := seen[e.AddrPort()]; dup {
			return model.Service{}, fieldError(fmt.Sprintf("endpoints[%d]", i), "duplicate of endpoints[%d] (%s)", j, e.HostPort())
		}
		seen[e.AddrPort()] = i
		svc.Endpoints = append(svc.Endpoints, e)
	}
	if svc.Port == 0 && len(svc.Endpoints) > 0 {
		svc.Port = svc.Endpoints[0].Port
		for _, e := range svc.Endpoints[1:] {
			if e.Port != svc.Port {
				svc.Port = 0
				break
			}
		}
	}
	return svc, nil
}
