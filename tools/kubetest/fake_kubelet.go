package kubetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// FakeKubeletOptions configures StartFakeKubelet.
type FakeKubeletOptions struct {
	// NodeName is the Node to create and serve; pod templates must set
	// spec.nodeName to it, since no scheduler runs. Required.
	NodeName string
	// PodCIDR is where pod IPs come from (lowest free first); it is also the
	// Node's spec.podCIDR. Default 10.244.0.0/24. Use one range per node.
	PodCIDR netip.Prefix
	// NodeLabels are set on the Node, e.g. topology.kubernetes.io/zone, which
	// the endpointslice controller copies into each endpoint's zone.
	NodeLabels map[string]string
}

// FakeKubelet plays the kubelet for one Node: it marks the pods bound to the
// node Running and Ready with an IP from the pod CIDR, and force-deletes pods
// being deleted (no real kubelet will ever confirm their termination). It
// replaces kwok with ~100 lines of client-go.
type FakeKubelet struct {
	cs   kubernetes.Interface
	node string
	ips  *ipAllocator
}

// StartFakeKubelet creates the Node (the endpointslice controller skips pods
// whose Node does not exist) and serves its pods until t ends.
func (c *Cluster) StartFakeKubelet(t testing.TB, opts FakeKubeletOptions) *FakeKubelet {
	t.Helper()
	if opts.NodeName == "" {
		t.Fatalf("kubetest: StartFakeKubelet: NodeName is required")
	}
	if !opts.PodCIDR.IsValid() {
		opts.PodCIDR = netip.MustParsePrefix("10.244.0.0/24")
	}
	k := &FakeKubelet{cs: c.clientset, node: opts.NodeName, ips: newIPAllocator(opts.PodCIDR)}

	ctx, cancel := context.WithCancel(context.Background())
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: opts.NodeName, Labels: opts.NodeLabels},
		Spec:       corev1.NodeSpec{PodCIDR: opts.PodCIDR.String(), PodCIDRs: []string{opts.PodCIDR.String()}},
	}
	if _, err := k.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		cancel()
		t.Fatalf("kubetest: creating node %s: %v", opts.NodeName, err)
	}

	lw := cache.NewListWatchFromClient(k.cs.CoreV1().RESTClient(), "pods", metav1.NamespaceAll,
		fields.OneTermEqualSelector("spec.nodeName", opts.NodeName))
	errs := make(chan error, 16)
	report := func(err error) {
		if err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			select {
			case errs <- err:
			default:
			}
		}
	}
	// A real kubelet retries what the API server did not take (e.g. while a
	// test has stopped it); only errors that outlast the retries are reported.
	var retries sync.WaitGroup
	syncRetrying := func(pod *corev1.Pod) {
		retries.Add(1)
		go func() {
			defer retries.Done()
			delay := 50 * time.Millisecond
			for attempt := 0; ; attempt++ {
				err := k.sync(ctx, pod)
				if err == nil || ctx.Err() != nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
					return
				}
				if attempt == 20 {
					report(err)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				delay = min(2*delay, time.Second)
			}
		}()
	}
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Pod{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { syncRetrying(obj.(*corev1.Pod)) },
			UpdateFunc: func(_, obj any) { syncRetrying(obj.(*corev1.Pod)) },
			DeleteFunc: func(obj any) {
				if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = tomb.Obj
				}
				if pod, ok := obj.(*corev1.Pod); ok {
					k.ips.release(string(pod.UID))
				}
			},
		},
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		informer.RunWithContext(ctx)
	}()
	// Errors are reported from the test goroutine: t.Errorf from the informer
	// could run after the test has finished.
	t.Cleanup(func() {
		cancel()
		<-done
		retries.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("kubetest: fake kubelet %s: %v", opts.NodeName, err)
		}
	})
	return k
}

// NodeName is the Node this fake kubelet serves.
func (k *FakeKubelet) NodeName() string { return k.node }

// sync drives one pod towards the state a kubelet would give it.
func (k *FakeKubelet) sync(ctx context.Context, pod *corev1.Pod) error {
	if pod.DeletionTimestamp != nil {
		zero := int64(0)
		err := k.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil {
			return fmt.Errorf("force-deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		return nil
	}
	if pod.Status.Phase == corev1.PodRunning {
		return nil // leave it alone, so tests may flip readiness with SetPodReady
	}
	ip, err := k.ips.allocate(string(pod.UID))
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	now := metav1.Now()
	status := map[string]any{
		"phase":     corev1.PodRunning,
		"podIP":     ip.String(),
		"podIPs":    []map[string]string{{"ip": ip.String()}},
		"hostIP":    "10.245.0.1",
		"startTime": now,
		"conditions": []map[string]any{
			{"type": corev1.PodInitialized, "status": corev1.ConditionTrue, "lastTransitionTime": now},
			{"type": corev1.ContainersReady, "status": corev1.ConditionTrue, "lastTransitionTime": now},
			{"type": corev1.PodReady, "status": corev1.ConditionTrue, "lastTransitionTime": now},
		},
	}
	return k.patchStatus(ctx, pod.Namespace, pod.Name, status)
}

// SetPodReady flips a running pod's Ready condition, as a failing readiness
// probe would; the endpointslice controller then marks its endpoint not ready.
func (k *FakeKubelet) SetPodReady(t testing.TB, namespace, name string, ready bool) {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	now := metav1.Now()
	patch := map[string]any{"conditions": []map[string]any{
		{"type": corev1.ContainersReady, "status": status, "lastTransitionTime": now},
		{"type": corev1.PodReady, "status": status, "lastTransitionTime": now},
	}}
	if err := k.patchStatus(context.Background(), namespace, name, patch); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

func (k *FakeKubelet) patchStatus(ctx context.Context, namespace, name string, status map[string]any) error {
	body, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = k.cs.CoreV1().Pods(namespace).Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{}, "status")
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("patching status of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}
