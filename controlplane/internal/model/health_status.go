package model

// HealthStatus is what kxds knows about an endpoint's ability to serve.
// Only Healthy and Unknown endpoints receive new RPCs from gRPC clients.
type HealthStatus int

const (
	// HealthUnknown: no active check yet (or checking is off); clients use it.
	HealthUnknown HealthStatus = iota
	// HealthHealthy: ready, and the active check says SERVING.
	HealthHealthy
	// HealthUnhealthy: not ready, NOT_SERVING or unreachable; clients skip it.
	HealthUnhealthy
	// HealthDraining: terminating but still serving in-flight RPCs; clients skip it.
	HealthDraining
)

func (h HealthStatus) String() string {
	switch h {
	case HealthHealthy:
		return "HEALTHY"
	case HealthUnhealthy:
		return "UNHEALTHY"
	case HealthDraining:
		return "DRAINING"
	default:
		return "UNKNOWN"
	}
}

// Serving reports whether clients should send new RPCs to such an endpoint.
func (h HealthStatus) Serving() bool { return h == HealthUnknown || h == HealthHealthy }
