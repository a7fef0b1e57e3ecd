package registry

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// benchSvc is service i with 10 endpoints; each gen moves one endpoint.
func benchSvc(i, gen int) model.Service {
	s := model.Service{Key: model.ServiceKey{Namespace: "default", Name: "svc-" + strconv.Itoa(i)}, Port: 50051,
		Locality: model.Locality{Region: "r", Zone: "z"}}
	for j := range 10 {
		port := uint32(50051)
		if j == gen%10 {
			port += uint32(gen % 1000)
		}
		s.Endpoints = append(s.Endpoints, model.Endpoint{Address: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(j + 1)}), Port: port})
	}
	return s
}

// One endpoint change, with 100 or 10,000 services known: the cost must not
// depend on the number of services (no client is subscribed here; fan-out is
// measured in xdscache).
func BenchmarkEndpointChange(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run("services="+strconv.Itoa(n), func(b *testing.B) {
			r, _, _ := newRegistry()
			for i := range n {
				r.Set(benchSvc(i, 0))
			}
			b.ReportAllocs()
			gen := 0
			for b.Loop() {
				gen++
				r.Set(benchSvc(gen%100, gen))
			}
		})
	}
}

// A new service (route, cluster, listeners and endpoints), for comparison.
func BenchmarkNewService(b *testing.B) {
	r, _, _ := newRegistry()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.Set(benchSvc(i, 0))
	}
}
