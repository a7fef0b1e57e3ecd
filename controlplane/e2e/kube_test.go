package e2e_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
)

// kubeServices is the original walkthrough's svc_config.json.
func kubeServices() []svcConfig {
	var out []svcConfig
	for _, name := range []string{"be1-srv", "be2-srv"} {
		out = append(out, svcConfig{ServiceName: name, Namespace: "default", PortName: "grpc", Protocol: "tcp",
			GRPCServiceName: "echo.EchoServer", Zone: "us-central1-a", Region: "us-central1"})
	}
	return out
}

func withKube(k *kubeCluster) func(*kxds.Options) {
	return func(o *kxds.Options) {
		o.Discovery = config.ModeKubernetes
		o.Kube.Kubeconfig = k.KubeconfigPath()
	}
}

// The original walkthrough, end to end on a real kube-apiserver: Deployments
// be1 and be2 with 2 pods each, the frontend sees 2 pods per service; scale
// be1 to 10 and all 10 answer; scale to 3 and only 3 do, with no failed RPC;
// then the API server goes away and the last known endpoints keep serving.
func TestKubernetesWalkthrough(t *testing.T) {
	k := startKube(t)
	k.deploy(t, "be1", 2)
	k.deploy(t, "be2", 2)
	cp := startControlPlaneWith(t, withKube(k), kubeServices()...)
	front := startFrontend(t, cp)
	waitForPods(t, front, "be1-srv", 2)
	waitForPods(t, front, "be2-srv", 2)

	k.scale(t, "be1", 10)
	waitForPods(t, front, "be1-srv", 10)
	waitForPods(t, front, "be2-srv", 2)

	client := dial(t, cp.xdsClient("scaler"), "be1-srv")
	var failed, total atomic.Int64
	var lastErr atomic.Value
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if _, err := hello(context.Background(), client); err != nil {
				failed.Add(1)
				lastErr.Store(err.Error())
			}
			total.Add(1)
		}
	}()
	k.scale(t, "be1", 3)
	waitForPods(t, front, "be1-srv", 3)
	stop()
	<-done
	if failed.Load() != 0 || total.Load() < 50 {
		t.Errorf("scaling down: %d of %d RPCs failed (last: %v); want none of at least 50", failed.Load(), total.Load(), lastErr.Load())
	}

	k.StopAPIServer(t)
	for _, svc := range []string{"be1-srv", "be2-srv"} {
		want := map[string]int{"be1-srv": 3, "be2-srv": 2}[svc]
		if r, err := pods(front, svc); err != nil || len(r.Counts) != want || len(r.Errors) > 0 {
			t.Errorf("API server down: %s answered from %v (errors %v, %v), want %d pods", svc, r.Counts, r.Errors, err, want)
		}
	}
	if err := cp.get("/readyz", nil); err != nil {
		t.Errorf("readiness lost while the API server is down: %v", err)
	}
	k.RestartAPIServer(t)
	k.scale(t, "be2", 1)
	waitForPods(t, front, "be2-srv", 1)
}

// A pod that fails its readiness probe leaves EDS; it returns when ready.
func TestKubernetesNotReadyPod(t *testing.T) {
	k := startKube(t)
	k.deploy(t, "be1", 2)
	cp := startControlPlaneWith(t, withKube(k), kubeServices()[:1]...)
	front := startFrontend(t, cp)
	waitForPods(t, front, "be1-srv", 2)
	podList, err := k.cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(podList.Items) != 2 {
		t.Fatalf("pods: %v %v", podList, err)
	}
	victim := podList.Items[0].Name
	setReady(t, k, victim, false)
	eventually(t, 10*time.Second, func() error {
		r, err := pods(front, "be1-srv")
		if err != nil {
			return err
		}
		if len(r.Counts) != 1 || r.Counts[victim] != 0 {
			return fmt.Errorf("replies %v, want none from not-ready %s", r.Counts, victim)
		}
		return nil
	})
	setReady(t, k, victim, true)
	waitForPods(t, front, "be1-srv", 2)
}

func setReady(t *testing.T, k *kubeCluster, pod string, ready bool) {
	t.Helper()
	p, err := k.cs.CoreV1().Pods("default").Get(context.Background(), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	for i, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			p.Status.Conditions[i].Status = status
		}
	}
	if _, err := k.cs.CoreV1().Pods("default").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// kxds started while the API server is down waits, not ready, and serves
// once it is back; svc_config.json can also come from a ConfigMap through the
// API, and a bad edit of it keeps the last good config.
func TestKubernetesConfigMapAndLateAPIServer(t *testing.T) {
	k := startKube(t)
	k.deploy(t, "be1", 2)
	k.deploy(t, "be2", 1)
	k.StopAPIServer(t)
	cp := startControlPlaneNoWait(t, func(o *kxds.Options) {
		withKube(k)(o)
		o.ConfigPath, o.ConfigMap = "", "default/xds-svc-config"
	})
	time.Sleep(time.Second) // kxds is up and trying
	if err := cp.get("/readyz", nil); err == nil {
		t.Fatal("ready without an API server")
	}
	k.RestartAPIServer(t)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "xds-svc-config", Namespace: "default"},
		Data:       map[string]string{"svc_config.json": `{"services":[{"serviceName":"be1-srv","namespace":"default","portName":"grpc","protocol":"tcp","grpcServiceName":"echo.EchoServer","zone":"us-central1-a","region":"us-central1"}]}`},
	}
	if _, err := k.cs.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error { return cp.get("/readyz", nil) })
	front := startFrontend(t, cp)
	waitForPods(t, front, "be1-srv", 2)

	before := cp.metric(`kxds_config_reloads_total{result="error"}`)
	cm.Data["svc_config.json"] = `{"services":[{"serviceName":"be1-srv","portName":"grpc","unknownField":true}]}`
	if _, err := k.cs.CoreV1().ConfigMaps("default").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if got := cp.metric(`kxds_config_reloads_total{result="error"}`); got == before {
			return fmt.Errorf("bad ConfigMap edit not rejected yet")
		}
		return nil
	})
	waitForPods(t, front, "be1-srv", 2)

	cm.Data["svc_config.json"] = `{"services":[{"serviceName":"be1-srv","portName":"grpc"},{"serviceName":"be2-srv","portName":"grpc"}]}`
	if _, err := k.cs.CoreV1().ConfigMaps("default").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForPods(t, front, "be2-srv", 1)
	waitForPods(t, front, "be1-srv", 2)
}
