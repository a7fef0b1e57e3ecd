package dnssource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// serviceLookup is what one round learned about one service.
type serviceLookup struct {
	endpoints []model.Endpoint // sorted by address and port
	// port is the SRV records' common port; zero when they disagree or
	// when there are none.
	port uint32
	// err is set when the lookup failed and nothing is known; an absent
	// record (NXDOMAIN, or no SRV data) is not a failure but zero endpoints.
	err error
}

// lookupService resolves w's SRV record and then each target's A and AAAA
// records. SRV priority and weight are ignored: Kubernetes publishes every
// endpoint with the same values, and gRPC clients balance on their own.
func lookupService(ctx context.Context, r resolver, w WantedService, clusterDomain string) serviceLookup {
	name := w.srvName(clusterDomain)
	srvs, err := r.lookupSRV(ctx, name)
	if isNotFound(err) {
		return serviceLookup{}
	}
	if err != nil {
		return serviceLookup{err: err} // a *net.DNSError names the record and the server
	}

	var out serviceLookup
	seen := make(map[string]bool)
	ports := make(map[uint16]bool)
	for _, srv := range srvs {
		addrs, err := r.lookupIP(ctx, srv.Target)
		if isNotFound(err) {
			// The target went away between the two lookups: it is no
			// endpoint any more.
			continue
		}
		if err != nil {
			return serviceLookup{err: fmt.Errorf("target of SRV %s: %w", name, err)}
		}
		ports[srv.Port] = true
		for _, a := range addrs {
			e := model.Endpoint{Address: a.Unmap(), Port: uint32(srv.Port), Hostname: strings.TrimSuffix(srv.Target, ".")}
			if e.Validate() != nil || seen[e.HostPort()] {
				continue
			}
			seen[e.HostPort()] = true
			out.endpoints = append(out.endpoints, e)
		}
	}
	if len(ports) == 1 {
		for p := range ports {
			out.port = uint32(p)
		}
	}
	slices.SortFunc(out.endpoints, func(a, b model.Endpoint) int {
		return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
	})
	return out
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
