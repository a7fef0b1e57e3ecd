package bench

import (
	"hash/fnv"
	"net"
	"net/netip"
	"slices"
	"strconv"

	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// edsState is what a client holds of one service's endpoints: the generation
// and a digest of every (address, port, hostname), enough to compare with the
// model without keeping the resource.
type edsState struct {
	gen    int
	digest uint64
}

func digest(entries []string) uint64 {
	slices.Sort(entries)
	h := fnv.New64a()
	for _, e := range entries {
		h.Write([]byte(e))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func entry(addr string, port uint32, hostname string) string {
	return net.JoinHostPort(addr, strconv.FormatUint(uint64(port), 10)) + "/" + hostname
}

// modelState is what every subscriber of service i must end up with.
func modelState(i, gen, k int) edsState {
	svc := benchService(i, gen, k)
	entries := make([]string, 0, len(svc.Endpoints))
	for _, e := range svc.Endpoints {
		entries = append(entries, entry(e.Address.String(), e.Port, e.Hostname))
	}
	return edsState{gen: gen, digest: digest(entries)}
}

// claState is what a client got: the highest generation among its endpoints
// (each generation replaces one endpoint) and the digest.
func claState(cla *endpoint.ClusterLoadAssignment) edsState {
	st := edsState{gen: -1}
	var entries []string
	for _, loc := range cla.GetEndpoints() {
		for _, lb := range loc.GetLbEndpoints() {
			e := lb.GetEndpoint()
			sa := e.GetAddress().GetSocketAddress()
			entries = append(entries, entry(sa.GetAddress(), sa.GetPortValue(), e.GetHostname()))
			if a, err := netip.ParseAddr(sa.GetAddress()); err == nil {
				st.gen = max(st.gen, generationOf(a))
			}
		}
	}
	st.digest = digest(entries)
	return st
}
