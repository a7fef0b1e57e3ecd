package kubesource

import (
	"cmp"
	"net/netip"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// endpointsFromSlices merges the EndpointSlices of one Service into endpoints
// on the port named portName.
//
//   - The port number is the slice's (the controller has resolved targetPort
//     for each pod); a slice without that port contributes nothing (e.g. an
//     old slice while a port is being renamed).
//   - Only the first address of an endpoint counts (the API defines no meaning
//     for the others); FQDN slices are skipped.
//   - An address in several slices (slices are rebalanced, or a pod moves) is
//     listed once, with its best health: serving beats draining beats unhealthy.
//   - Not-ready endpoints are kept, as HealthUnhealthy, so they show in
//     /debug/config; the translator leaves them out of EDS.
//
// regionOf may be nil. The result is sorted by address, so an unchanged set of
// slices always gives an equal slice of endpoints.
func endpointsFromSlices(epSlices []*discoveryv1.EndpointSlice, portName string, defaults model.Locality,
	regionOf func(node string) string) []model.Endpoint {
	byAddr := make(map[netip.Addr]model.Endpoint)
	for _, s := range epSlices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(s, portName)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			if len(e.Addresses) == 0 {
				continue
			}
			addr, err := netip.ParseAddr(e.Addresses[0])
			if err != nil {
				continue // the API validates addresses; nothing sensible to do with a bad one
			}
			ep := model.Endpoint{
				Address:  addr.Unmap(),
				Port:     port,
				Health:   endpointHealth(e.Conditions),
				Locality: endpointLocality(e, defaults, regionOf),
				Hostname: endpointHostname(e),
			}
			if prev, dup := byAddr[ep.Address]; dup && healthRank(prev.Health) <= healthRank(ep.Health) {
				continue
			}
			byAddr[ep.Address] = ep
		}
	}
	out := make([]model.Endpoint, 0, len(byAddr))
	for _, ep := range byAddr {
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b model.Endpoint) int { return a.Address.Compare(b.Address) })
	return out
}

// sortSlices orders slices by name, so that which of two equally good
// duplicates wins does not depend on map iteration order.
func sortSlices(s []*discoveryv1.EndpointSlice) {
	slices.SortFunc(s, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
}

// slicePort finds the slice port named portName ("" matches an unnamed port).
func slicePort(s *discoveryv1.EndpointSlice, portName string) (uint32, bool) {
	for _, p := range s.Ports {
		if ptrValue(p.Name) != portName || p.Port == nil {
			continue
		}
		if *p.Port <= 0 || *p.Port > 65535 {
			return 0, false
		}
		return uint32(*p.Port), true
	}
	return 0, false
}

// endpointHealth maps EndpointSlice conditions to kxds health:
//
//	terminating and serving  -> HealthDraining  (finish in-flight RPCs, no new ones)
//	terminating, not serving -> HealthUnhealthy
//	ready                    -> HealthUnknown   (serving; active checks may refine it)
//	not ready                -> HealthUnhealthy
//
// As the API documents, an unset ready means ready and an unset serving
// follows ready.
func endpointHealth(c discoveryv1.EndpointConditions) model.HealthStatus {
	ready := c.Ready == nil || *c.Ready
	serving := ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	terminating := c.Terminating != nil && *c.Terminating
	switch {
	case terminating && serving:
		return model.HealthDraining
	case terminating, !ready:
		return model.HealthUnhealthy
	default:
		return model.HealthUnknown
	}
}

// healthRank orders health for de-duplication: lower is preferred.
func healthRank(h model.HealthStatus) int {
	switch h {
	case model.HealthHealthy, model.HealthUnknown:
		return 0
	case model.HealthDraining:
		return 1
	default:
		return 2
	}
}

// endpointLocality is the endpoint's own locality: its zone (which the
// endpointslice controller copies from the Node) and its Node's region, with
// the service defaults filling what is missing. Zero when the endpoint adds
// nothing, so it simply inherits the service's locality.
func endpointLocality(e discoveryv1.Endpoint, defaults model.Locality, regionOf func(string) string) model.Locality {
	zone := ptrValue(e.Zone)
	var region string
	if regionOf != nil && e.NodeName != nil {
		region = regionOf(*e.NodeName)
	}
	if zone == "" && region == "" {
		return model.Locality{}
	}
	return model.Locality{
		Region:  cmp.Or(region, defaults.Region),
		Zone:    cmp.Or(zone, defaults.Zone),
		SubZone: defaults.SubZone,
	}
}

// endpointHostname names the endpoint for humans: its pod, else the hostname
// field of hand-made slices.
func endpointHostname(e discoveryv1.Endpoint) string {
	if e.TargetRef != nil && e.TargetRef.Name != "" {
		return e.TargetRef.Name
	}
	return ptrValue(e.Hostname)
}

func ptrValue[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
