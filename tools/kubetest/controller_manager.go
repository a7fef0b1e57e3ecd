package kubetest

import (
	"path/filepath"
	"strings"
	"testing"
)

// DefaultControllers are the kube-controller-manager controllers that turn a
// Deployment and a Service into Pods and EndpointSlices.
var DefaultControllers = []string{"deployment-controller", "replicaset-controller", "endpointslice-controller"}

// StartControllerManager runs kube-controller-manager against the cluster
// with DefaultControllers plus extraControllers (e.g.
// "garbage-collector-controller" for cascading deletes), until t ends. It
// uses the admin credentials and no serving port, so it needs no PKI of its
// own. There is no scheduler: pod templates must set spec.nodeName (see
// StartFakeKubelet).
func (c *Cluster) StartControllerManager(t testing.TB, extraControllers ...string) {
	t.Helper()
	bin := requireBinary(t, "kube-controller-manager")
	controllers := append(append([]string{}, DefaultControllers...), extraControllers...)
	p := newProcess("kube-controller-manager", bin, filepath.Join(c.dir, "kube-controller-manager.log"),
		"--kubeconfig="+c.kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--leader-elect=false",
		// The admin identity is allowed everything; per-controller service
		// accounts would need the serviceaccount and token controllers.
		"--use-service-account-credentials=false",
		"--secure-port=0", // no serving: avoids its own PKI and the authn lookups
	)
	if err := p.start(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(func() {
		if gone, err := p.exited(); gone {
			t.Errorf("kubetest: kube-controller-manager exited during the test (%v):\n%s", err, p.logTail(30))
		} else if t.Failed() {
			t.Logf("kubetest: last lines of %s:\n%s", p.logPath, p.logTail(20))
		}
		p.stop()
	})
}
