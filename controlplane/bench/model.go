package bench

import (
	"fmt"
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
	// MaxEndpoints keeps the endpoint addresses of one service distinct (see
	// endpointAt).
	MaxEndpoints = 127
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
// endpoint (slot gen%k), as a rolling restart replaces one pod: new IP, new
// name. The name carries the generation, so a client can tell which change it
// has from the resource alone.
func benchService(i, gen, k int) model.Service {
	eps := make([]model.Endpoint, k)
	for j := range eps {
		eps[j] = endpointAt(i, j, slotGeneration(j, gen, k))
	}
	return model.Service{
		Key:      serviceKey(i),
		Port:     servicePort,
		Locality: model.Locality{Region: "bench-region", Zone: "bench-zone"},
		// Discovery without active health checks: the registry is fed directly.
		Endpoints: eps,
	}
}

// slotGeneration is the last generation ≤ gen that replaced slot j (0 if none).
func slotGeneration(j, gen, k int) int {
	g := gen - ((gen-j)%k+k)%k
	if g < 1 {
		return 0
	}
	return g
}

// endpointAt is 10.a.b.c with (a, b) from the service index and c from the
// slot; odd generations use the upper half of c, so a replaced pod changes IP.
// These addresses are never dialed.
func endpointAt(i, j, g int) model.Endpoint {
	c := 1 + j + MaxEndpoints*(g&1)
	return model.Endpoint{
		Address:  netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(c)}),
		Port:     servicePort,
		Hostname: fmt.Sprintf("p%d-g%d", j, g),
	}
}

// generationOf reads the generation back from an endpoint's hostname.
func generationOf(hostname string) int {
	_, g, ok := strings.Cut(hostname, "-g")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(g)
	if err != nil {
		return -1
	}
	return n
}
