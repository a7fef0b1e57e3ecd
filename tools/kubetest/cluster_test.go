package kubetest

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestClusterSurvivesAPIServerRestart(t *testing.T) {
	c := Start(t)
	ctx := context.Background()
	cs := c.Clientset()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "keep", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The kubeconfig file works for other clients (subprocesses use it).
	fromFile, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	other := kubernetes.NewForConfigOrDie(fromFile)
	if _, err := other.CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{}); err != nil {
		t.Fatalf("get via kubeconfig %s: %v", c.KubeconfigPath(), err)
	}

	c.StopAPIServer(t)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().ConfigMaps("default").Get(short, "keep", metav1.GetOptions{}); err == nil {
		t.Fatal("get succeeded while the apiserver was stopped")
	}

	c.RestartAPIServer(t)
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Fatalf("data after restart = %v; want k=v (etcd keeps the data)", got.Data)
	}
}
