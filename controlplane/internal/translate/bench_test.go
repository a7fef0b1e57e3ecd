package translate

import (
	"fmt"
	"testing"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// One service as discovery reports it: 10 endpoints in one locality.
func benchService() model.Service {
	var eps []model.Endpoint
	for i := range 10 {
		eps = append(eps, ep(fmt.Sprintf("10.0.0.%d:50051", i+1), model.HealthHealthy, ""))
	}
	return svc(50051, eps...)
}

// Service is the whole translation (route, cluster, endpoints, aliases):
// what a new or reconfigured service costs before marshalling.
func BenchmarkService(b *testing.B) {
	s := benchService()
	b.ReportAllocs()
	for b.Loop() {
		Service(s, Options{ClusterDomain: "cluster.local"})
	}
}

// ClusterLoadAssignment alone is what an endpoint change needs.
func BenchmarkClusterLoadAssignment(b *testing.B) {
	s := benchService()
	name := ClusterName(s.Key)
	b.ReportAllocs()
	for b.Loop() {
		ClusterLoadAssignment(name, s)
	}
}

// Listener is built once per alias (8 per service with a port).
func BenchmarkListener(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Listener("be1-srv.default.svc.cluster.local:50051", "kxds/default/be1-srv")
	}
}
