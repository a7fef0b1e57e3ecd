package kxds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/dnssource"
	"github.com/kxds/kxds/controlplane/internal/kubesource"
	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/staticsource"
)

// Discovery is what feeds the registry: the discovery source o.Discovery
// names, built from the config (svc_config.json on disk or in a ConfigMap),
// and the config watch that hands the source each new valid version. Run wires
// it; the benchmark (controlplane/bench) runs the same wiring.
type Discovery struct {
	o      Options
	m      *metrics.Metrics
	kube   *kubeClient
	config configSource
}

// NewDiscovery checks the options that select the config and the discovery
// mode, and builds the Kubernetes client if either needs one. It reads
// nothing yet, so it fails fast on bad flags.
func NewDiscovery(o Options, m *metrics.Metrics) (*Discovery, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if (o.ConfigPath == "") == (o.ConfigMap == "") {
		return nil, errors.New("exactly one of --config (svc_config.json on disk) or --config-map (namespace/name) is required")
	}
	d := &Discovery{o: o, m: m}
	if o.Discovery == config.ModeKubernetes || o.ConfigMap != "" {
		var err error
		if d.kube, err = newKubeClient(o.Kube); err != nil {
			return nil, err
		}
	}
	var err error
	if d.config, err = newConfigSource(o, d.kube, m.ConfigLoaded); err != nil {
		return nil, err
	}
	return d, nil
}

// Start reads the first valid config (waiting for a ConfigMap that does not
// exist yet) and builds the source from it. The source is to be run against
// the sink; watchConfig, run alongside it until ctx ends, applies later
// versions of the config to it.
func (d *Discovery) Start(ctx context.Context) (src source.Source, watchConfig func(context.Context) error, err error) {
	cfg, watch, err := d.config.initial(ctx)
	if err != nil {
		return nil, nil, err
	}
	src, onConfig, err := discovery(d.o, cfg, d.kube, d.m)
	if err != nil {
		return nil, nil, err
	}
	return src, func(ctx context.Context) error { return watch(ctx, onConfig) }, nil
}

// discovery builds the source for o.Discovery, and the function that hands it
// each new valid config.
func discovery(o Options, cfg *config.File, kube *kubeClient, m *metrics.Metrics) (source.Source, func(*config.File), error) {
	switch o.Discovery {
	case config.ModeStatic:
		s := staticsource.New(cfg)
		return s, s.Update, nil
	case config.ModeDNS:
		build := func(f *config.File) (source.Source, error) {
			wanted := make([]dnssource.WantedService, 0, len(f.Services))
			for _, s := range f.Services {
				wanted = append(wanted, dnssource.WantedService{
					Namespace: s.Namespace, Name: s.ServiceName, PortName: s.PortName, Protocol: s.Protocol,
					GRPCServiceName: s.GRPCServiceName, Locality: s.Locality(), HealthCheck: s.HealthCheckEnabled(),
				})
			}
			return dnssource.New(wanted, dnssource.Options{
				Server: o.DNSServer, ClusterDomain: o.ClusterDomain, Interval: o.DNSInterval, Logger: o.Log,
			})
		}
		return restarting(cfg, build, o)
	case config.ModeKubernetes:
		build := func(f *config.File) (source.Source, error) {
			wanted := make([]kubesource.WantedService, 0, len(f.Services))
			for _, s := range f.Services {
				wanted = append(wanted, kubesource.WantedService{
					Key: s.Key(), PortName: s.PortName, GRPCServiceName: s.GRPCServiceName,
					Locality: s.Locality(), HealthCheck: s.HealthCheckEnabled(),
				})
			}
			return kubesource.New(kubesource.Options{
				Client: kube.clientset, Namespace: o.Kube.Namespace, Services: wanted, WatchNodes: o.Kube.WatchNodes,
				Logger: o.Log, OnProblem: func(p kubesource.Problem) { m.DiscoveryProblem(string(p.Reason)) },
			})
		}
		return restarting(cfg, build, o)
	}
	return nil, nil, fmt.Errorf("unknown discovery mode %q", o.Discovery)
}

// restarting wraps a source that takes its service list only when built.
func restarting(cfg *config.File, build func(*config.File) (source.Source, error), o Options) (source.Source, func(*config.File), error) {
	s, err := newRestartingSource(cfg, build, o.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("--discovery=%s: %w", o.Discovery, err)
	}
	return s, s.Update, nil
}
