package kxds

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/configmapwatch"
	"github.com/kxds/kxds/controlplane/internal/configwatch"
)

// configSource gives the first valid config, then a function that watches
// for later ones until ctx ends.
type configSource interface {
	initial(ctx context.Context) (*config.File, func(context.Context, func(*config.File)) error, error)
}

func newConfigSource(o Options, kube *kubeClient, loaded func(error)) (configSource, error) {
	if o.ConfigMap != "" {
		ns, name, ok := strings.Cut(o.ConfigMap, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("--config-map %q: want namespace/name", o.ConfigMap)
		}
		return &configMapSource{&configmapwatch.Watcher{
			Client: kube.clientset, Namespace: ns, Name: name, Mode: o.Discovery, Log: o.Log, Loaded: loaded,
		}}, nil
	}
	return &fileSource{o: o, loaded: loaded}, nil
}

type fileSource struct {
	o      Options
	loaded func(error)
}

func (s *fileSource) initial(context.Context) (*config.File, func(context.Context, func(*config.File)) error, error) {
	raw, err := os.ReadFile(s.o.ConfigPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Parse(s.o.ConfigPath, raw, s.o.Discovery)
	s.loaded(err)
	if err != nil {
		return nil, nil, err
	}
	return cfg, func(ctx context.Context, apply func(*config.File)) error {
		w := &configwatch.Watcher{Path: s.o.ConfigPath, Mode: s.o.Discovery, Apply: apply, Loaded: s.loaded, Log: s.o.Log}
		return w.Run(ctx, raw)
	}, nil
}

type configMapSource struct{ w *configmapwatch.Watcher }

func (s *configMapSource) initial(ctx context.Context) (*config.File, func(context.Context, func(*config.File)) error, error) {
	cfg, run, err := s.w.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	return cfg, func(ctx context.Context, apply func(*config.File)) error {
		run(ctx, apply)
		return nil
	}, nil
}
