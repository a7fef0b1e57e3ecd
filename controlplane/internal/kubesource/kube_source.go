// Package kubesource discovers services from the Kubernetes API: Services and
// their EndpointSlices, watched with client-go shared informers, turned into
// model.Service values for a source.Sink.
//
// A Service is served when it is listed in Options.Services (from the config
// file) or opts in with the xds.kxds.io/enabled: "true" annotation. Each event
// recomputes only the Service it concerns, and a Service is re-sent to the sink
// only when its model changed.
package kubesource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/kxds/kxds/controlplane/internal/model"
	"github.com/kxds/kxds/controlplane/internal/source"
)

const (
	// defaultAPICheckInterval: see Options.APICheckInterval.
	defaultAPICheckInterval = 10 * time.Second
	// shutdownGrace bounds how long Run waits for the informers to stop. A
	// reflector backing off from "connection refused" during its initial
	// watch-list does not watch the context (client-go v0.37), and may sleep
	// up to 30 s; its goroutine then ends on its own, harmlessly, since the
	// queue it feeds is shut down.
	shutdownGrace = 2 * time.Second
)

// Source is a source.Source backed by the Kubernetes API.
type Source struct {
	opts   Options
	wanted map[model.ServiceKey]WantedService
	log    *slog.Logger
}

var _ source.Source = (*Source)(nil)

// New validates opts; nothing talks to the API server before Run.
func New(opts Options) (*Source, error) {
	wanted, err := opts.validate()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "*"
	}
	return &Source{opts: opts, wanted: wanted, log: log.With("source", "kubernetes", "namespace", ns)}, nil
}

// Run watches the API until ctx ends, then returns nil. It calls sink.Synced
// only once the informers have listed everything and every Service found has
// been sent. While the API server is unreachable (at start or later), the
// informers retry with backoff and the sink keeps the last known state:
// nothing is deleted because the API is gone, only when it says so.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	interval := s.opts.APICheckInterval
	if interval <= 0 {
		interval = defaultAPICheckInterval
	}
	r := &run{
		Source:    s,
		monitor:   &apiMonitor{client: s.opts.Client.Discovery().RESTClient(), interval: interval, log: s.log},
		sink:      sink,
		queue:     workqueue.NewTyped[model.ServiceKey](),
		published: map[model.ServiceKey]model.Service{},
		problems:  newProblemTracker(s.log, s.opts.OnProblem),
	}
	return r.run(ctx)
}

// run is the state of one Run call. published and problems are only touched
// by the worker goroutine; informer handlers only add keys to queue.
type run struct {
	*Source
	sink source.Sink

	services corelisters.ServiceLister
	slices   cache.Indexer
	nodes    corelisters.NodeLister // nil unless WatchNodes

	queue     workqueue.TypedInterface[model.ServiceKey]
	published map[model.ServiceKey]model.Service
	problems  *problemTracker

	monitor *apiMonitor
}

func (r *run) run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(r.opts.Client, 0,
		informers.WithNamespace(r.opts.Namespace), informers.WithTransform(trimObject))
	svcInformer := factory.Core().V1().Services()
	sliceInformer := factory.Discovery().V1().EndpointSlices()
	r.services = svcInformer.Lister()
	synced := []cache.InformerSynced{svcInformer.Informer().HasSynced, sliceInformer.Informer().HasSynced}

	if err := sliceInformer.Informer().AddIndexers(sliceIndexers); err != nil {
		return fmt.Errorf("kubesource: EndpointSlice indexers: %w", err)
	}
	r.slices = sliceInformer.Informer().GetIndexer()
	informersToWatch := map[string]cache.SharedIndexInformer{
		"Services":       svcInformer.Informer(),
		"EndpointSlices": sliceInformer.Informer(),
	}
	if _, err := svcInformer.Informer().AddEventHandler(r.serviceHandler()); err != nil {
		return fmt.Errorf("kubesource: Service event handler: %w", err)
	}
	if _, err := sliceInformer.Informer().AddEventHandler(r.sliceHandler()); err != nil {
		return fmt.Errorf("kubesource: EndpointSlice event handler: %w", err)
	}
	if r.opts.WatchNodes {
		nodeInformer := factory.Core().V1().Nodes()
		r.nodes = nodeInformer.Lister()
		synced = append(synced, nodeInformer.Informer().HasSynced)
		informersToWatch["Nodes"] = nodeInformer.Informer()
		if _, err := nodeInformer.Informer().AddEventHandler(r.nodeHandler()); err != nil {
			return fmt.Errorf("kubesource: Node event handler: %w", err)
		}
	}
	for kind, inf := range informersToWatch {
		if err := inf.SetWatchErrorHandlerWithContext(r.watchErrorHandler(kind)); err != nil {
			return fmt.Errorf("kubesource: %s watch error handler: %w", kind, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	factory.Start(ctx.Done())
	defer shutdownInformers(factory, shutdownGrace)
	go func() {
		<-ctx.Done()
		r.queue.ShutDown()
	}()
	go r.monitor.run(ctx)

	if !r.waitForSync(ctx, synced) {
		return nil
	}
	r.sendAll()
	r.sink.Synced()
	r.monitor.synced.Store(true)
	r.log.Info("Kubernetes discovery synced", "services", len(r.published))

	for {
		key, shutdown := r.queue.Get()
		if shutdown {
			return nil
		}
		r.reconcile(key)
		r.queue.Done(key)
	}
}

// waitForSync blocks until every informer has listed its objects; it returns
// false if ctx ends first.
func (r *run) waitForSync(ctx context.Context, synced []cache.InformerSynced) bool {
	begin := time.Now()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return false
	}
	r.log.Info("Kubernetes informers synced", "took", time.Since(begin).Round(time.Millisecond))
	return true
}

// sendAll computes every Service once the caches are complete, so that
// Synced follows a full initial state.
func (r *run) sendAll() {
	svcs, err := r.services.List(labels.Everything())
	if err != nil {
		r.log.Error("listing cached Services", "error", err) // a cache list cannot fail
	}
	for _, svc := range svcs {
		r.reconcile(model.ServiceKey{Namespace: svc.Namespace, Name: svc.Name})
	}
	for key := range r.wanted {
		if _, ok := r.published[key]; !ok {
			if _, err := r.services.Services(key.Namespace).Get(key.Name); apierrors.IsNotFound(err) {
				r.log.Warn("configured Kubernetes Service does not exist (yet); it will be served once created",
					"service", key.String())
			}
		}
	}
}

// reconcile recomputes one Service from the caches and tells the sink if its
// model changed, or deletes it when it is gone or no longer to be served.
func (r *run) reconcile(key model.ServiceKey) {
	svc, err := r.services.Services(key.Namespace).Get(key.Name)
	if err != nil { // not found: the only error a cache lister returns
		r.problems.update(key, nil)
		r.withdraw(key)
		return
	}
	wanted, inConfig := r.wanted[key]
	st, serve, problems := settingsFor(svc, wanted, inConfig)
	if !serve {
		r.problems.update(key, problems)
		r.withdraw(key)
		return
	}
	m, err := buildService(svc, st, r.slicesOf(key), r.regionOf)
	if err != nil {
		r.problems.update(key, append(problems, Problem{key, ReasonPortNotFound, err}))
		r.withdraw(key)
		return
	}
	r.problems.update(key, problems)
	if prev, ok := r.published[key]; ok && prev.Equal(m) {
		return
	}
	r.published[key] = m.Clone()
	r.log.Debug("service changed", "service", key.String(), "port", m.Port, "endpoints", len(m.Endpoints))
	r.sink.Set(m)
}

func (r *run) withdraw(key model.ServiceKey) {
	if _, ok := r.published[key]; !ok {
		return
	}
	delete(r.published, key)
	r.log.Info("service withdrawn", "service", key.String())
	r.sink.Delete(key)
}

// shutdownInformers stops the informers' goroutines (their context is already
// cancelled), waiting at most grace.
func shutdownInformers(factory informers.SharedInformerFactory, grace time.Duration) {
	done := make(chan struct{})
	go func() {
		factory.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
}

func (r *run) slicesOf(key model.ServiceKey) []*discoveryv1.EndpointSlice {
	objs, err := r.slices.ByIndex(byService, key.String())
	if err != nil {
		r.log.Error("EndpointSlice index", "service", key.String(), "error", err) // only if the index is missing
	}
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			out = append(out, s)
		}
	}
	// The index returns slices in map order; a fixed order makes
	// de-duplication deterministic.
	sortSlices(out)
	return out
}

// regionOf is the region label of a Node, or "" (also without WatchNodes).
func (r *run) regionOf(node string) string {
	if r.nodes == nil {
		return ""
	}
	n, err := r.nodes.Get(node)
	if err != nil {
		return ""
	}
	return nodeRegion(n)
}

func (r *run) serviceHandler() cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if key, ok := serviceKeyOf(obj); ok {
			r.queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
}

func (r *run) sliceHandler() cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if key, ok := sliceServiceKey(obj); ok {
			r.queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue,
		UpdateFunc: func(oldObj, obj any) {
			enqueue(obj)
			// A slice relabelled to another Service (rare, hand-made slices)
			// also changes the old one.
			if oldKey, ok := sliceServiceKey(oldObj); ok {
				if newKey, _ := sliceServiceKey(obj); newKey != oldKey {
					r.queue.Add(oldKey)
				}
			}
		},
		DeleteFunc: enqueue,
	}
}

// nodeHandler recomputes the Services with endpoints on a Node whose region
// label changed; other Node updates (heartbeats) are ignored.
func (r *run) nodeHandler() cache.ResourceEventHandler {
	enqueueNode := func(node string) {
		objs, _ := r.slices.ByIndex(byNode, node)
		for _, o := range objs {
			if key, ok := sliceServiceKey(o); ok {
				r.queue.Add(key)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if n, ok := obj.(*corev1.Node); ok {
				enqueueNode(n.Name)
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			o, ok1 := oldObj.(*corev1.Node)
			n, ok2 := obj.(*corev1.Node)
			if ok1 && ok2 && nodeRegion(o) != nodeRegion(n) {
				enqueueNode(n.Name)
			}
		},
		DeleteFunc: func(obj any) {
			if n, ok := unwrapTombstone(obj).(*corev1.Node); ok {
				enqueueNode(n.Name)
			}
		},
	}
}

// watchErrorHandler logs the informers' list and watch failures through slog
// (client-go would print them with klog) and remembers the last one for the
// "still waiting" log. The informer retries on its own with backoff; it
// keeps connection-refused errors to itself (apiMonitor covers those).
func (r *run) watchErrorHandler(kind string) cache.WatchErrorHandlerWithContext {
	return func(_ context.Context, _ *cache.Reflector, err error) {
		if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return // normal watch turnover; the informer re-lists or re-watches
		}
		r.monitor.watchFailed(err)
		r.log.Warn("Kubernetes API list/watch failed; retrying, the last known state is kept",
			"resource", kind, "error", err)
	}
}
