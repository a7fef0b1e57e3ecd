package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/configwatch"
	"github.com/kxds/kxds/controlplane/internal/kubesource"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/staticsource"
)

// Sources the benchmark can feed the server through (Config.Source).
const (
	// SourceSink: the child calls source.Sink itself, one change at a time;
	// the cache design alone.
	SourceSink = "sink"
	// SourceStatic: the parent rewrites a static svc_config.json; kxds'
	// file watch and static source read it.
	SourceStatic = "static"
	// SourceKubernetes: the parent writes EndpointSlices to a real
	// kube-apiserver; kxds' Kubernetes source watches them.
	SourceKubernetes = "kubernetes"
)

// startDiscovery runs a discovery source against sink in the background,
// wired as internal/kxds wires it for --discovery=static (with --config) or
// --discovery=kubernetes (annotated Services, one namespace). Errors that end
// the source go to errs.
func startDiscovery(ctx context.Context, mode, path string, sink source.Sink, log *slog.Logger, errs chan<- error) error {
	var src source.Source
	switch mode {
	case SourceStatic:
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cfg, err := config.Parse(path, raw, config.ModeStatic)
		if err != nil {
			return err
		}
		static := staticsource.New(cfg)
		w := &configwatch.Watcher{
			Path: path, Mode: config.ModeStatic, Apply: static.Update, Log: log,
			Loaded:   func(error) {},
			Rejected: func(err error) { errs <- fmt.Errorf("config rejected: %w", err) },
		}
		go func() {
			if err := w.Run(ctx, raw); err != nil {
				errs <- err
			}
		}()
		src = static
	case SourceKubernetes:
		restCfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return err
		}
		restCfg.UserAgent = "kxds"
		cs, err := kubernetes.NewForConfig(restCfg)
		if err != nil {
			return err
		}
		if src, err = kubesource.New(kubesource.Options{Client: cs, Namespace: benchNamespace, Logger: log}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown source %q", mode)
	}
	go func() {
		if err := src.Run(ctx, sink); err != nil {
			errs <- err
		}
	}()
	return nil
}
