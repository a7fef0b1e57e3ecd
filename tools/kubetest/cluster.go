// Package kubetest runs a real Kubernetes control plane (etcd + kube-apiserver,
// optionally kube-controller-manager and a fake kubelet) on 127.0.0.1 for
// integration tests, from the binaries tools/k8s-local/build.sh builds.
//
// Nothing here talks to a network other than loopback: etcd and the apiserver
// listen on random ports of 127.0.0.1, and fake pods get addresses from a pod
// CIDR (10.244.0.0/16) that only becomes reachable inside a network namespace
// where it is routed to lo (see RequirePodNetwork).
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	// startTimeout bounds etcd + apiserver start-up (2-3 s when idle; a loaded
	// 2-core CI machine running -race builds in parallel is much slower).
	startTimeout = 90 * time.Second
	// serviceCIDR is the ClusterIP range; pods use 10.244.0.0/16, which must not overlap.
	serviceCIDR = "10.96.0.0/16"
	// startAttempts: ports are picked free but may be taken before the child
	// binds them (another test package starting at the same moment), so retry.
	startAttempts = 3
)

// Cluster is a running etcd + kube-apiserver owned by one test.
type Cluster struct {
	dir        string
	pki        *pki
	apiPort    int
	cfg        *rest.Config
	kubeconfig string
	clientset  kubernetes.Interface

	etcd      *process
	apiserver *process
}

// Start runs etcd and kube-apiserver on free ports of 127.0.0.1 with a fresh
// PKI in t.TempDir(), waits for /readyz, and stops both when t ends. Without
// the binaries the test fails and says how to build them (skipped instead when
// KXDS_SKIP_K8S_TESTS=1; with the binaries present it runs either way).
//
// The apiserver runs with RBAC, an admin client certificate (system:masters),
// --advertise-address=127.0.0.1 --endpoint-reconciler-type=none (so it works in
// a network namespace that has only lo), and without the ServiceAccount
// admission plugin (as envtest does), so pods can be created without the
// serviceaccount controller.
func Start(t testing.TB) *Cluster {
	t.Helper()
	etcdBin := requireBinary(t, "etcd")
	apiserverBin := requireBinary(t, "kube-apiserver")
	dir := t.TempDir() // registered before the stop below, so removed after it
	c, err := launch(dir, etcdBin, apiserverBin, t.Logf)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.logTails(t)
		}
		c.Stop()
	})
	return c
}

// Launch is Start for programs (benchmarks, dev tools): the cluster keeps its
// files in dir and runs until Stop. logf receives progress lines.
func Launch(dir string, logf func(format string, args ...any)) (*Cluster, error) {
	bins, err := BinDir()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, buildHint)
	}
	return launch(dir, filepath.Join(bins, "etcd"), filepath.Join(bins, "kube-apiserver"), logf)
}

// Stop ends kube-apiserver, then etcd; the data stays in the directory.
func (c *Cluster) Stop() {
	// apiserver first: stopping etcd under it only produces noise.
	c.apiserver.stop()
	c.etcd.stop()
}

func launch(dir, etcdBin, apiserverBin string, logf func(string, ...any)) (*Cluster, error) {
	p, err := generatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, pki: p}
	begin := time.Now()
	for attempt := 1; ; attempt++ {
		err = c.start(etcdBin, apiserverBin)
		if err == nil {
			break
		}
		c.Stop()
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			return nil, fmt.Errorf("starting etcd + kube-apiserver (attempt %d): %w\n%s", attempt, err, c.tails())
		}
		logf("kubetest: attempt %d: %v; retrying on other ports", attempt, err)
	}
	logf("kubetest: kube-apiserver ready at %s after %v", c.cfg.Host, time.Since(begin).Round(time.Millisecond))
	return c, nil
}

var errPortInUse = errors.New("port already in use")

// start picks ports, launches etcd and kube-apiserver together (the apiserver
// retries etcd until it answers) and waits until /readyz says OK.
func (c *Cluster) start(etcdBin, apiserverBin string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	etcdPeer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.apiPort = ports[2]

	c.etcd = newProcess("etcd", etcdBin, filepath.Join(c.dir, "etcd.log"),
		"--name=default",
		"--data-dir="+filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls="+etcdClient, "--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer, "--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=default="+etcdPeer,
		"--unsafe-no-fsync", // throw-away data: fsync would only slow tests down
		"--log-level=warn",
	)
	c.apiserver = newProcess("kube-apiserver", apiserverBin, filepath.Join(c.dir, "kube-apiserver.log"),
		"--etcd-servers="+etcdClient,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.apiPort),
		// Needed where lo is the only interface (a test netns): without an
		// advertise address the apiserver never gets ready, and the endpoint
		// reconciler refuses a loopback address.
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
		"--service-cluster-ip-range="+serviceCIDR,
		"--tls-cert-file="+c.pki.servingCertFile, "--tls-private-key-file="+c.pki.servingKeyFile,
		"--client-ca-file="+c.pki.caFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.pki.saPublicFile,
		"--service-account-signing-key-file="+c.pki.saPrivateFile,
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--profiling=false",
	)
	if err := c.etcd.start(); err != nil {
		return err
	}
	if err := c.apiserver.start(); err != nil {
		return err
	}

	c.cfg = &rest.Config{
		Host: "https://127.0.0.1:" + strconv.Itoa(c.apiPort),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: c.pki.caCert, CertData: c.pki.adminCert, KeyData: c.pki.adminKey,
		},
		// Tests create objects in bursts; client-side throttling would only add latency.
		QPS: 200, Burst: 400,
	}
	if c.clientset, err = kubernetes.NewForConfig(c.cfg); err != nil {
		return fmt.Errorf("clientset: %w", err)
	}
	if c.kubeconfig == "" {
		c.kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	}
	if err := writeKubeconfig(c.kubeconfig, c.cfg); err != nil {
		return err
	}
	return c.waitReady()
}

// waitReady polls /readyz until it answers 200, a process exits, or time runs out.
func (c *Cluster) waitReady() error {
	client, err := rest.HTTPClientFor(c.cfg)
	if err != nil {
		return fmt.Errorf("readyz client: %w", err)
	}
	client.Timeout = 2 * time.Second
	deadline := time.Now().Add(startTimeout)
	var last string
	for {
		for _, p := range []*process{c.etcd, c.apiserver} {
			if gone, err := p.exited(); gone {
				if strings.Contains(p.logTail(50), "address already in use") {
					return fmt.Errorf("%s exited (%v): %w", p.name, err, errPortInUse)
				}
				return fmt.Errorf("%s exited before the apiserver was ready: %v", p.name, err)
			}
		}
		resp, err := client.Get(c.cfg.Host + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz not OK after %v: last answer: %s", c.cfg.Host, startTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Config returns a copy of an admin (system:masters) client config.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.cfg) }

// Clientset returns an admin clientset.
func (c *Cluster) Clientset() kubernetes.Interface { return c.clientset }

// KubeconfigPath is an admin kubeconfig file (certificates embedded), for
// subprocesses such as kube-controller-manager or kxds itself.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// StopAPIServer kills kube-apiserver (etcd keeps the data), so a test can see
// how clients behave while the API is unreachable. Connections are refused
// until RestartAPIServer.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	c.apiserver.stop()
}

// RestartAPIServer starts kube-apiserver again on the same port and with the
// same data, and waits until it is ready.
func (c *Cluster) RestartAPIServer(t testing.TB) {
	t.Helper()
	begin := time.Now()
	if err := c.apiserver.start(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	if err := c.waitReady(); err != nil {
		t.Logf("kube-apiserver log:\n%s", c.apiserver.logTail(30))
		t.Fatalf("kubetest: restarting kube-apiserver: %v", err)
	}
	t.Logf("kubetest: kube-apiserver ready again after %v", time.Since(begin).Round(time.Millisecond))
}

// WaitFor polls cond every 20 ms until it returns true, failing the test after
// timeout with msg. A helper for tests that wait on the API's eventual state.
func WaitFor(t testing.TB, timeout time.Duration, msg string, cond func(ctx context.Context) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond(ctx) {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s", timeout, msg)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) logTails(t testing.TB) {
	t.Helper()
	t.Log(c.tails())
}

// tails is the end of each process's log, for error messages.
func (c *Cluster) tails() string {
	var b strings.Builder
	for _, p := range []*process{c.etcd, c.apiserver} {
		if p != nil {
			fmt.Fprintf(&b, "kubetest: last lines of %s:\n%s\n", p.logPath, p.logTail(20))
		}
	}
	return b.String()
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
