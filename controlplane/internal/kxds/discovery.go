package kxds

import (
	"fmt"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/dnssource"
	"github.com/kxds/kxds/controlplane/internal/kubesource"
	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/staticsource"
)

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
