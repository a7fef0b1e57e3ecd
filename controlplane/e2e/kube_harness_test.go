package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"google.golang.org/grpc"

	"github.com/kxds/kxds/echo/server"
	"github.com/kxds/kxds/frontend/app"
	"github.com/kxds/kxds/tools/kubetest"
)

const testNode = "node-1"

// kubeCluster is a real kube-apiserver with the controllers that turn
// Deployments into pods and EndpointSlices, and pods that are real echo
// servers listening on their pod IPs.
type kubeCluster struct {
	*kubetest.Cluster
	cs kubernetes.Interface
}

func startKube(t *testing.T) *kubeCluster {
	t.Helper()
	kubetest.RequirePodNetwork(t)
	c := kubetest.Start(t)
	c.StartControllerManager(t)
	c.StartFakeKubelet(t, kubetest.FakeKubeletOptions{NodeName: testNode, PodCIDR: netip.MustParsePrefix("10.244.1.0/24")})
	k := &kubeCluster{Cluster: c, cs: c.Clientset()}
	runPods(t, k.cs)
	return k
}

// runPods starts an echo backend on each running pod's IP, named after the
// pod, and drains it (NOT_SERVING, then stop) when the pod is deleted, as a
// container with a preStop drain would.
func runPods(t *testing.T, cs kubernetes.Interface) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	running := map[string]*server.Backend{}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		mu.Lock()
		for _, b := range running {
			b.Stop()
		}
		mu.Unlock()
		wg.Wait()
	})
	start := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Status.PodIP == "" || pod.DeletionTimestamp != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if running[pod.Name] != nil || ctx.Err() != nil {
			return
		}
		lis, err := net.Listen("tcp", net.JoinHostPort(pod.Status.PodIP, "50051"))
		if err != nil {
			t.Errorf("pod %s: %v", pod.Name, err)
			return
		}
		b, err := server.NewBackend(server.Options{Hostname: pod.Name})
		if err != nil {
			t.Errorf("pod %s: %v", pod.Name, err)
			return
		}
		running[pod.Name] = b
		wg.Add(1)
		go func() { defer wg.Done(); b.Serve(lis) }()
	}
	stop := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		mu.Lock()
		b := running[pod.Name]
		delete(running, pod.Name)
		mu.Unlock()
		if b != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
				defer scancel()
				b.Shutdown(sctx, 3*time.Second)
			}()
		}
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    start,
		UpdateFunc: func(_, obj any) { start(obj) },
		DeleteFunc: stop,
	})
	f.Start(ctx.Done())
}

// deploy creates <app>-deployment and the headless Service <app>-srv with
// the port "grpc", like the original walkthrough's manifests.
func (k *kubeCluster) deploy(t *testing.T, appName string, replicas int32) {
	t.Helper()
	k.DeployApp(t, kubetest.App{Deployment: appName + "-deployment", Service: appName + "-srv", NodeName: testNode, Replicas: replicas})
}

func (k *kubeCluster) scale(t *testing.T, appName string, replicas int32) {
	t.Helper()
	name := appName + "-deployment"
	_, err := k.cs.AppsV1().Deployments("default").UpdateScale(context.Background(), name, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// frontend is the real frontend handler, with its own xDS client.
func startFrontend(t *testing.T, cp *controlPlane) string {
	t.Helper()
	h, err := app.New(app.Config{DialOptions: []grpc.DialOption{grpc.WithResolvers(cp.xdsClient("frontend"))}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv.URL
}

// pods asks the frontend for 60 RPCs and returns the replies per pod.
func pods(url, service string) (app.Result, error) {
	var r app.Result
	resp, err := http.Get(url + "/" + service + "?format=json&n=60")
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r, err
}

// waitForPods waits until the frontend's replies come from exactly n pods.
func waitForPods(t *testing.T, url, service string, n int) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		r, err := pods(url, service)
		if err != nil {
			return err
		}
		if len(r.Counts) != n || len(r.Errors) > 0 {
			return fmt.Errorf("%s: replies from %d pods %v (errors %v), want %d", service, len(r.Counts), r.Counts, r.Errors, n)
		}
		return nil
	})
}
