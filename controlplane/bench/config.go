package bench

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is one benchmark run; cmd/kxds-bench fills it from flags.
type Config struct {
	Clients   int // lightweight xDS clients, one ADS stream and node ID each
	Services  int
	Endpoints int // per service
	PerClient int // services each client dials
	// Span limits the services clients dial to [0, Span) (0: all), to
	// measure the cost of a change against the number of services alone.
	Span           int
	StreamsPerConn int
	// Source is how the server learns the model and its changes: SourceSink,
	// SourceStatic or SourceKubernetes (see feeder).
	Source string

	Changes       int           // sequential changes timed one by one
	ChurnRate     float64       // changes per second during churn
	ChurnDuration time.Duration // 0 skips churn
	// PhaseBudget caps each phase, so a design that cannot keep up (the
	// baseline at scale) ends the run instead of stalling it.
	PhaseBudget    time.Duration
	SanityChannels int  // real grpc-go xDS channels
	NoWarmUp       bool // skip warmUp (tests)
	Impls          []string
	Seed           uint64
	ProfileDir     string // pprof files of the server (profile.go); none if empty
	Progress       io.Writer
}

func (c *Config) span() int {
	if c.Span > 0 && c.Span < c.Services {
		return c.Span
	}
	return c.Services
}

func (c *Config) validate() error {
	switch {
	case c.Clients < 1 || c.Services < 1 || c.PerClient < 1:
		return errors.New("clients, services and per-client must be ≥ 1")
	case c.Endpoints < 1 || c.Endpoints > MaxEndpoints:
		return fmt.Errorf("endpoints must be in 1..%d", MaxEndpoints)
	case c.PerClient > c.span():
		return fmt.Errorf("per-client %d > %d services to dial", c.PerClient, c.span())
	case c.Services > 1<<16:
		return errors.New("at most 65536 services (endpoint addresses are 10.a.b.c)")
	case c.StreamsPerConn < 1:
		return errors.New("streams-per-conn must be ≥ 1")
	case c.PhaseBudget <= 0:
		return errors.New("phase budget must be > 0")
	}
	switch c.Source {
	case SourceSink, SourceStatic, SourceKubernetes:
	default:
		return fmt.Errorf("unknown source %q (%s, %s, %s)", c.Source, SourceSink, SourceStatic, SourceKubernetes)
	}
	for _, impl := range c.Impls {
		if impl != "kxds" && impl != "baseline" {
			return fmt.Errorf("unknown implementation %q (kxds, baseline)", impl)
		}
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "kxds-bench: "+format+"\n", args...)
	}
}
