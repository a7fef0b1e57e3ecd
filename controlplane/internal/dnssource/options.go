package dnssource

import (
	"log/slog"
	"time"
)

// Options tune a Source. A zero field takes its default.
type Options struct {
	// Server is the DNS server's "host:port", e.g. "127.0.0.1:5353"; empty
	// uses the system resolver.
	Server string
	// ClusterDomain is the Kubernetes cluster's DNS domain. Default "cluster.local".
	ClusterDomain string
	// Interval is the time between resolution rounds. Default 5s.
	Interval time.Duration
	// LookupTimeout bounds the resolution of one service (its SRV record and
	// every target's addresses) in a round. Default 2s.
	LookupTimeout time.Duration
	// Logger receives failed lookups. Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultClusterDomain = "cluster.local"
	DefaultInterval      = 5 * time.Second
	DefaultLookupTimeout = 2 * time.Second
)

func (o Options) withDefaults() Options {
	if o.ClusterDomain == "" {
		o.ClusterDomain = DefaultClusterDomain
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = DefaultLookupTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
