package kubetest

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TestFakeKubeletDeploymentToEndpointSlices: Deployment -> ReplicaSet -> Pods
// (made Running/Ready by the fake kubelet) -> EndpointSlice, then scale down
// (the fake kubelet force-deletes the terminating pods) and flip readiness.
func TestFakeKubeletDeploymentToEndpointSlices(t *testing.T) {
	c := Start(t)
	c.StartControllerManager(t)
	kubelet := c.StartFakeKubelet(t, FakeKubeletOptions{
		NodeName:   "node-a",
		PodCIDR:    netip.MustParsePrefix("10.244.7.0/24"),
		NodeLabels: map[string]string{corev1.LabelTopologyZone: "zone-a"},
	})
	cs := c.Clientset()
	ctx := context.Background()

	c.DeployApp(t, App{Deployment: "web", NodeName: kubelet.NodeName(), Replicas: 3})

	begin := time.Now()
	waitEndpoints(t, cs, "web", []string{"10.244.7.1", "10.244.7.2", "10.244.7.3"}, 3)
	t.Logf("3 ready endpoints after %v", time.Since(begin))

	begin = time.Now()
	if _, err := cs.AppsV1().Deployments("default").Patch(ctx, "web", types.MergePatchType,
		[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEndpoints(t, cs, "web", nil, 1)
	t.Logf("1 ready endpoint after scaling down, %v", time.Since(begin))

	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v, %v; want exactly 1", pods, err)
	}
	kubelet.SetPodReady(t, "default", pods.Items[0].Name, false)
	waitEndpoints(t, cs, "web", nil, 0)
}

// waitEndpoints waits until the service's slices hold exactly total endpoints,
// all ready when total == ready, with the given addresses if want is not nil.
func waitEndpoints(t *testing.T, cs kubernetes.Interface, service string, want []string, ready int) {
	t.Helper()
	var got []string
	var total int
	WaitFor(t, 20*time.Second, "endpoints of "+service, func(ctx context.Context) bool {
		list, err := cs.DiscoveryV1().EndpointSlices("default").List(ctx,
			metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
		if err != nil {
			return false
		}
		got, total = nil, 0
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				total++
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					got = append(got, e.Addresses[0])
					if e.Zone == nil || *e.Zone != "zone-a" {
						t.Errorf("endpoint %v zone = %v; want zone-a from the node label", e.Addresses, e.Zone)
					}
				}
			}
		}
		slices.Sort(got)
		return len(got) == ready && (ready == 0 || total == ready) && (want == nil || slices.Equal(got, want))
	})
	t.Logf("ready endpoints %v (%d in total)", got, total)
}
