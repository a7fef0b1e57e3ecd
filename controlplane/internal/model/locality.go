package model

// Locality places an endpoint for locality-aware load balancing.
type Locality struct {
	Region  string
	Zone    string
	SubZone string
}

// IsZero reports whether no field is set.
func (l Locality) IsZero() bool { return l == Locality{} }
