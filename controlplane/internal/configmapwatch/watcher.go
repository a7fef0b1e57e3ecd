// Package configmapwatch reads svc_config.json from a Kubernetes ConfigMap
// through the API (an informer on that one object), for deployments that
// would rather not mount it. Like the file watcher, an invalid version is
// rejected and the last good one stays in force.
package configmapwatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kxds/kxds/controlplane/internal/config"
)

// Key is the ConfigMap data key that holds the file.
const Key = "svc_config.json"

// Watcher watches one ConfigMap.
type Watcher struct {
	Client    kubernetes.Interface
	Namespace string
	Name      string
	Mode      config.Mode
	Log       *slog.Logger
	// Loaded is told about each load attempt's result, for metrics.
	Loaded func(error)

	updates chan *corev1.ConfigMap
}

func (w *Watcher) source() string {
	return fmt.Sprintf("configmap %s/%s key %s", w.Namespace, w.Name, Key)
}

// parse validates the ConfigMap's content; errors name the ConfigMap and key.
func (w *Watcher) parse(cm *corev1.ConfigMap) (*config.File, string, error) {
	data, ok := cm.Data[Key]
	if !ok {
		return nil, "", fmt.Errorf("%s: key missing", w.source())
	}
	f, err := config.Parse(w.source(), []byte(data), w.Mode)
	return f, data, err
}

// Start begins watching and blocks until a first valid version is read. A
// missing ConfigMap is waited for (it may be created after kxds); an invalid
// one is an error, as an invalid file is at startup. The returned function
// runs until ctx ends, calling apply with each later valid version.
func (w *Watcher) Start(ctx context.Context) (*config.File, func(ctx context.Context, apply func(*config.File)), error) {
	w.updates = make(chan *corev1.ConfigMap, 16)
	factory := informers.NewSharedInformerFactoryWithOptions(w.Client, 0, informers.WithNamespace(w.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.Name).String()
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	push := func(obj any) {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			w.updates <- cm
		}
	}
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    push,
		UpdateFunc: func(_, obj any) { push(obj) },
		DeleteFunc: func(any) {
			w.Log.Warn("config ConfigMap deleted; still serving the last good config", "configmap", w.Namespace+"/"+w.Name)
		},
	})
	factory.Start(ctx.Done())

	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	var first *config.File
	var last string
	for first == nil {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-tick.C:
			w.Log.Info("waiting for the config ConfigMap", "configmap", w.Namespace+"/"+w.Name, "synced", inf.HasSynced())
		case cm := <-w.updates:
			f, data, err := w.parse(cm)
			w.Loaded(err)
			if err != nil {
				return nil, nil, err
			}
			first, last = f, data
		}
	}
	run := func(ctx context.Context, apply func(*config.File)) {
		for {
			select {
			case <-ctx.Done():
				return
			case cm := <-w.updates:
				f, data, err := w.parse(cm)
				if data == last && err == nil {
					continue
				}
				w.Loaded(err)
				if err != nil {
					w.Log.Error("config change rejected; still serving the last good config", "err", err)
					continue
				}
				last = data
				w.Log.Info("config reloaded", "configmap", w.Namespace+"/"+w.Name, "services", len(f.Services))
				apply(f)
			}
		}
	}
	return first, run, nil
}
