package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kxds/kxds/controlplane/internal/kubesource"
	"github.com/kxds/kxds/tools/kubetest"
)

// kubeFeeder writes the model to a real kube-apiserver (etcd + apiserver from
// tools/kubetest, a fresh one per server under test): one annotated headless
// Service and one EndpointSlice per service, each change an update of the
// slice, as the EndpointSlice controller makes when a pod is replaced.
type kubeFeeder struct {
	dir     string
	config  string // an svc_config.json that lists no service: they opt in by annotation
	cluster *kubetest.Cluster
	client  kubernetes.Interface
	k       int
	slices  []*discoveryv1.EndpointSlice // as last written, with resourceVersion
}

// loadWorkers create objects in parallel; the API server takes them faster
// than one client goroutine sends them.
const loadWorkers = 8

func newKubeFeeder(cfg Config) (f *kubeFeeder, err error) {
	dir, err := os.MkdirTemp("", "kxds-bench-kube-")
	if err != nil {
		return nil, err
	}
	f = &kubeFeeder{dir: dir, k: cfg.Endpoints, slices: make([]*discoveryv1.EndpointSlice, cfg.Services)}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	if f.cluster, err = kubetest.Launch(dir, cfg.logf); err != nil {
		return nil, err
	}
	// In a directory of its own: kxds watches the config's directory, and the
	// API server's logs in dir change all the time.
	f.config = filepath.Join(dir, "config", "svc_config.json")
	if err = os.Mkdir(filepath.Dir(f.config), 0o755); err != nil {
		return nil, err
	}
	if err = os.WriteFile(f.config, []byte(`{"services":[]}`), 0o644); err != nil {
		return nil, err
	}
	rc := f.cluster.Config()
	rc.QPS, rc.Burst = 5000, 5000 // the feeder is the only client that writes
	if f.client, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.PhaseBudget)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if _, err := f.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	begin := time.Now()
	if err := f.createAll(ctx, cfg.Services); err != nil {
		return nil, err
	}
	cfg.logf("kubernetes: %d Services and EndpointSlices created in %v", cfg.Services, time.Since(begin).Round(time.Millisecond))
	return f, nil
}

func (f *kubeFeeder) createAll(ctx context.Context, services int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(loadWorkers)
	for i := range services {
		g.Go(func() error { return f.create(ctx, i) })
	}
	return g.Wait()
}

func (f *kubeFeeder) create(ctx context.Context, i int) error {
	name := targetName(i)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace, Annotations: map[string]string{
			kubesource.AnnotationEnabled: "true",
			// Nothing listens on the endpoints' addresses.
			kubesource.AnnotationHealthCheck: "false",
		}},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Ports:     []corev1.ServicePort{{Name: "grpc", Port: servicePort, Protocol: corev1.ProtocolTCP}},
		},
	}
	if _, err := f.client.CoreV1().Services(benchNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Service %s: %w", name, err)
	}
	s, err := f.client.DiscoveryV1().EndpointSlices(benchNamespace).Create(ctx, f.slice(i, 0), metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create EndpointSlice of %s: %w", name, err)
	}
	f.slices[i] = s
	return nil
}

// slice is service i's EndpointSlice at generation gen.
func (f *kubeFeeder) slice(i, gen int) *discoveryv1.EndpointSlice {
	svc := benchService(i, gen, f.k)
	ready := true
	zone := svc.Locality.Zone
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: targetName(i) + "-bench", Namespace: benchNamespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: targetName(i),
			discoveryv1.LabelManagedBy:   "kxds-bench",
		}},
		AddressType: discoveryv1.AddressTypeIPv6,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("grpc"), Port: ptr(int32(servicePort)), Protocol: ptr(corev1.ProtocolTCP)}},
		Endpoints:   make([]discoveryv1.Endpoint, len(svc.Endpoints)),
	}
	for j, e := range svc.Endpoints {
		s.Endpoints[j] = discoveryv1.Endpoint{
			Addresses:  []string{e.Address.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			Zone:       &zone,
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func (f *kubeFeeder) change(_ *serverProc, i, gen int) error {
	next := f.slice(i, gen)
	next.ResourceVersion = f.slices[i].ResourceVersion
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := f.client.DiscoveryV1().EndpointSlices(benchNamespace).Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update EndpointSlice of %s: %w", targetName(i), err)
	}
	f.slices[i] = s
	return nil
}

func (f *kubeFeeder) childArgs() string {
	return "-source " + SourceKubernetes + " -config " + f.config + " -kubeconfig " + f.cluster.KubeconfigPath()
}

func (f *kubeFeeder) load(srv *serverProc) error { return srv.load(len(f.slices), nil) }
func (f *kubeFeeder) sanity() bool               { return false }

func (f *kubeFeeder) close() {
	if f.cluster != nil {
		f.cluster.Stop()
	}
	os.RemoveAll(f.dir)
}
