package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
)

// namespacedRules are the Role the README documents for --namespace.
var namespacedRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"services", "configmaps"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
}

// Namespaced mode works with nothing more than the Role the README documents:
// get/list/watch on services, endpointslices and configmaps in one namespace.
func TestKubernetesNamespacedModeNeedsOnlyARole(t *testing.T) {
	k := startKube(t)
	k.deploy(t, "be1", 2)
	kubeconfig := serviceAccountKubeconfig(t, k, "default", "kxds", namespacedRules)
	cp := startControlPlaneWith(t, func(o *kxds.Options) {
		o.Discovery = config.ModeKubernetes
		o.Kube.Kubeconfig, o.Kube.Namespace = kubeconfig, "default"
	}, kubeServices()[:1]...)
	front := startFrontend(t, cp)
	waitForPods(t, front, "be1-srv", 2)
	k.scale(t, "be1", 3)
	waitForPods(t, front, "be1-srv", 3)
}

// --watch-nodes works with what the README documents: the namespaced Role
// plus get/list/watch on nodes in a ClusterRole; and a Node's region label
// reaches the endpoints of the pods on it, live.
func TestKubernetesWatchNodesWithDocumentedRBAC(t *testing.T) {
	k := startKube(t)
	k.deploy(t, "be1", 2)
	kubeconfig := serviceAccountKubeconfig(t, k, "default", "kxds", namespacedRules)
	ctx := context.Background()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kxds-nodes"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if _, err := k.cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kxds-nodes"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "kxds-nodes"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "kxds", Namespace: "default"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cp := startControlPlaneWith(t, func(o *kxds.Options) {
		o.Discovery = config.ModeKubernetes
		o.Kube.Kubeconfig, o.Kube.Namespace, o.Kube.WatchNodes = kubeconfig, "default", true
	}, kubeServices()[:1]...)
	localities := func(want string) func() error {
		return func() error {
			var cfg struct {
				Services []struct {
					Endpoints []struct {
						Locality string `json:"locality"`
					} `json:"endpoints"`
				} `json:"services"`
			}
			if err := cp.get("/debug/config", &cfg); err != nil {
				return err
			}
			if len(cfg.Services) != 1 || len(cfg.Services[0].Endpoints) != 2 {
				return fmt.Errorf("services %+v, want be1-srv with 2 endpoints", cfg.Services)
			}
			for _, e := range cfg.Services[0].Endpoints {
				if e.Locality != want {
					return fmt.Errorf("endpoint locality %q, want %q", e.Locality, want)
				}
			}
			return nil
		}
	}
	// No region label yet: the config's region applies.
	eventually(t, 10*time.Second, localities("us-central1/us-central1-a"))
	patch := []byte(`{"metadata":{"labels":{"topology.kubernetes.io/region":"eu-west9"}}}`)
	if _, err := k.cs.CoreV1().Nodes().Patch(ctx, testNode, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, localities("eu-west9/us-central1-a"))
}

// serviceAccountKubeconfig creates a ServiceAccount bound to a Role with the
// given rules and returns a kubeconfig that authenticates as it.
func serviceAccountKubeconfig(t *testing.T, k *kubeCluster, ns, name string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	meta := metav1.ObjectMeta{Name: name, Namespace: ns}
	if _, err := k.cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := k.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := k.Config()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name, Namespace: ns}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
