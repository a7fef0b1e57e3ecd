package bench

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/source"
)

// Sources the benchmark can feed the server through (Config.Source).
const (
	// SourceSink: the child calls source.Sink itself, one change at a time;
	// the cache design alone.
	SourceSink = "sink"
	// SourceStatic: the parent rewrites a static svc_config.json; kxds'
	// config watch and static source read it.
	SourceStatic = "static"
	// SourceKubernetes: the parent writes EndpointSlices to a real
	// kube-apiserver; kxds' Kubernetes source watches them (the services are
	// opted in by annotation; the config file lists none).
	SourceKubernetes = "kubernetes"
)

// startDiscovery runs a discovery source against sink in the background,
// wired by internal/kxds exactly as kxds --discovery=static --config or
// --discovery=kubernetes --config --kubeconfig --namespace runs it. Errors
// that end the source or its config watch go to errs.
func startDiscovery(ctx context.Context, mode, configPath, kubeconfig string, sink source.Sink, log *slog.Logger, errs chan<- error) error {
	o := kxds.Options{ConfigPath: configPath, Log: log}
	switch mode {
	case SourceStatic:
		o.Discovery = config.ModeStatic
	case SourceKubernetes:
		o.Discovery = config.ModeKubernetes
		o.Kube = kxds.KubeOptions{Kubeconfig: kubeconfig, Namespace: benchNamespace}
	default:
		return fmt.Errorf("unknown source %q", mode)
	}
	d, err := kxds.NewDiscovery(o, metrics.New(log))
	if err != nil {
		return err
	}
	src, watchConfig, err := d.Start(ctx)
	if err != nil {
		return err
	}
	for _, run := range []func(context.Context) error{watchConfig, func(ctx context.Context) error { return src.Run(ctx, sink) }} {
		go func() {
			if err := run(ctx); err != nil {
				errs <- err
			}
		}()
	}
	return nil
}
