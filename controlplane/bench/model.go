package bench

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/translate"
)

// The benchmark's model is a pure function of (service index, generation,
// endpoints per service), so the parent (which checks what clients received)
// and the child (which serves it) agree on it without exchanging it.
const (
	benchNamespace = "bench"
	servicePort    = 50051
	// MaxEndpoints is what one EndpointSlice can hold: the Kubernetes
	// source gets each service as a single slice.
	MaxEndpoints = 1000
)

var translateOptions = translate.Options{ClusterDomain: "cluster.local"}

// targetName is what a client dials for service i (xds:///svc-i).
func targetName(i int) string { return "svc-" + strconv.Itoa(i) }

func serviceKey(i int) model.ServiceKey {
	return model.ServiceKey{Namespace: benchNamespace, Name: targetName(i)}
}

// serviceIndex reads i back from a route, cluster or EDS name ("kxds/bench/svc-i").
func serviceIndex(name string) (int, bool) {
	_, num, ok := strings.Cut(name, "/svc-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil
}

// benchService is service i at generation gen. Each generation replaces one
// endpoint (slot gen%k), as a rolling restart replaces one pod: a new IP. The
// address carries the generation, so a client can tell which change it has
// from the resource alone. Endpoints have no hostname: a static config file
// cannot give them one, and every source must yield the same model.
func benchService(i, gen, k int) model.Service {
	eps := make([]model.Endpoint, k)
	for j := range eps {
		eps[j] = endpointAt(i, j, slotGeneration(j, gen, k))
	}
	return model.Service{
		Key:      serviceKey(i),
		Port:     servicePort,
		Locality: model.Locality{Region: benchRegion, Zone: benchZone},
		// Discovery without active health checks: nothing dials these addresses.
		Endpoints: eps,
	}
}

const benchRegion, benchZone = "bench-region", "bench-zone"

// slotGeneration is the last generation ≤ gen that replaced slot j (0 if none).
func slotGeneration(j, gen, k int) int {
	g := gen - ((gen-j)%k+k)%k
	if g < 1 {
		return 0
	}
	return g
}

// endpointAt is fd00::I:I:J:0:G:G, unique local IPv6 with the service index
// I, the slot J and the slot's generation G in it. These addresses are never
// dialed.
func endpointAt(i, j, g int) model.Endpoint {
	var a [16]byte
	a[0] = 0xfd
	binary.BigEndian.PutUint32(a[4:], uint32(i))
	binary.BigEndian.PutUint16(a[8:], uint16(j))
	binary.BigEndian.PutUint32(a[12:], uint32(g))
	return model.Endpoint{Address: netip.AddrFrom16(a), Port: servicePort}
}

// generationOf reads the generation back from an endpoint address; -1 if it
// is not one of endpointAt's.
func generationOf(a netip.Addr) int {
	b := a.As16()
	if !a.Is6() || b[0] != 0xfd {
		return -1
	}
	return int(binary.BigEndian.Uint32(b[12:]))
}

// generationOfService is the service's generation: the newest of its slots.
func generationOfService(svc model.Service) int {
	gen := -1
	for _, e := range svc.Endpoints {
		gen = max(gen, generationOf(e.Address))
	}
	return gen
}

// benchIndex is i for service svc-i; false for any other service (sanity).
func benchIndex(key model.ServiceKey) (int, bool) {
	num, ok := strings.CutPrefix(key.Name, "svc-")
	if !ok || key.Namespace != benchNamespace {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil
}
