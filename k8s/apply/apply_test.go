package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kxds/kxds/k8s/render"
	"github.com/kxds/kxds/tools/kubetest"
)

// registry is //tools/oci:registry's default, what `bazel run //k8s:apply` renders with.
const registry = "localhost:5000/kxds"

// imageOf maps each Deployment to the image its container runs.
var imageOf = map[string]string{
	"be1-deployment": "echo",
	"be2-deployment": "echo",
	"fe-deployment":  "frontend",
	"xds-deployment": "kxds",
}

// wantObjects are the objects of the manifests for namespace ns, besides the Namespace.
func wantObjects(ns string) []string {
	return []string{
		"ClusterRole//kxds-discovery", "ClusterRoleBinding//kxds-discovery-" + ns,
		"ConfigMap/" + ns + "/fe-xds-bootstrap", "ConfigMap/" + ns + "/xds-svc-config",
		"Deployment/" + ns + "/be1-deployment", "Deployment/" + ns + "/be2-deployment",
		"Deployment/" + ns + "/fe-deployment", "Deployment/" + ns + "/xds-deployment",
		"Service/" + ns + "/be1-srv", "Service/" + ns + "/be2-srv", "Service/" + ns + "/fe-srv", "Service/" + ns + "/xds-srv",
		"ServiceAccount/" + ns + "/kxds",
	}
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

// templates returns the manifest templates, ../manifests/*.yaml (under Bazel: the runfiles
// of //k8s:templates, at the same relative path).
func templates(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../manifests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in ../manifests: %v", err)
	}
	return files
}

// fakeDigest is a well-formed manifest digest for the image: sha256 of its name.
func fakeDigest(name string) string {
	sum := sha256.Sum256([]byte("kxds fake image " + name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// bazelOptions builds Options the way the k8s_apply rule's script does: --registry, one
// --image=NAME=DIGEST_FILE per image (digest files as oci_image writes them: "sha256:...",
// no newline) and the templates.
func bazelOptions(t *testing.T) Options {
	t.Helper()
	o := Options{Registry: registry, Templates: templates(t), CreateNamespace: true, Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer)}
	dir := t.TempDir()
	for _, name := range []string{"echo", "frontend", "kxds"} {
		f := filepath.Join(dir, name+"_image.digest")
		if err := os.WriteFile(f, []byte(fakeDigest(name)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := o.AddImage(name + "=" + f); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

var pinnedRE = regexp.MustCompile(`^` + regexp.QuoteMeta(registry) + `/([a-z]+)@(sha256:[0-9a-f]{64})$`)

// checkImage: <registry>/<name>@sha256:<64 hex> of the right image, pinned by digest, no tag.
func checkImage(t *testing.T, where, image, name string) {
	t.Helper()
	m := pinnedRE.FindStringSubmatch(image)
	if m == nil {
		t.Errorf("%s: image %q is not %s/<name>@sha256:<64 hex>", where, image, registry)
		return
	}
	if m[1] != name || m[2] != fakeDigest(name) {
		t.Errorf("%s: image %q, want %s/%s@%s", where, image, registry, name, fakeDigest(name))
	}
}

func TestAddImage(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.digest"), filepath.Join(dir, "bad.digest")
	if err := os.WriteFile(good, []byte(fakeDigest("echo")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("latest"), 0o644); err != nil {
		t.Fatal(err)
	}
	var o Options
	if err := o.AddImage("echo=" + good); err != nil || o.Digests["echo"] != fakeDigest("echo") {
		t.Errorf("AddImage(echo=good) = %v, digests %v", err, o.Digests)
	}
	for _, spec := range []string{"echo", "=" + good, "echo=", "echo=" + bad, "echo=" + filepath.Join(dir, "missing")} {
		if err := o.AddImage(spec); err == nil {
			t.Errorf("AddImage(%q) accepted", spec)
		}
	}
}

// TestPrint renders without a cluster (--print): no kubeconfig is read when the namespace
// is given.
func TestPrint(t *testing.T) {
	o := bazelOptions(t)
	o.Print, o.Namespace = true, "kxds-print"
	o.Kubeconfig = filepath.Join(t.TempDir(), "no-such-kubeconfig")
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if out := o.Stdout.(*bytes.Buffer).Bytes(); !bytes.Equal(out, res.Manifests) || len(out) == 0 {
		t.Errorf("printed %d bytes, rendered %d", len(out), len(res.Manifests))
	}
	if len(res.Applied) != 0 {
		t.Errorf("--print applied %d objects", len(res.Applied))
	}
	objs, err := render.Objects(res.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range objs {
		got = append(got, key(u))
		if u.GetKind() == "Deployment" {
			checkDeploymentImages(t, u)
		}
	}
	sort.Strings(got)
	if want := wantObjects("kxds-print"); !slices.Equal(got, want) {
		t.Errorf("objects\n got %v\nwant %v", got, want)
	}
	if _, err := Run(context.Background(), Options{Registry: registry}); err == nil {
		t.Error("no templates accepted")
	}
}

func checkDeploymentImages(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	for _, field := range []string{"containers", "initContainers"} {
		cs, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", field)
		if err != nil {
			t.Errorf("%s: %v", key(u), err)
		}
		if field == "containers" && len(cs) == 0 {
			t.Errorf("%s: no containers", key(u))
		}
		for _, c := range cs {
			c, _ := c.(map[string]any)
			image, _ := c["image"].(string)
			checkImage(t, fmt.Sprintf("%s container %v", key(u), c["name"]), image, imageOf[u.GetName()])
		}
	}
}

// cluster is a real kube-apiserver (no controllers: nothing but the apply changes objects).
type cluster struct {
	*kubetest.Cluster
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := kubetest.Start(t)
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{Cluster: c, cs: c.Clientset(), dyn: dynamic.NewForConfigOrDie(c.Config()), mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

// get reads u's object from the API server; nil when it does not exist.
func (c *cluster) get(t *testing.T, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s: %v", key(u), err)
	}
	var ri dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = c.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	got, err := ri.Get(context.Background(), u.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s: %v", key(u), err)
	}
	return got
}

// rendered returns the objects of the manifests as Run rendered them, Namespace included.
func rendered(t *testing.T, res *Result) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render.Objects(res.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(res.Namespace)
	return append([]*unstructured.Unstructured{ns}, objs...)
}

// checkApplied checks that every object of res exists as applied: the expected set, owned
// by the kxds-apply field manager, images pinned by digest, RBAC for the namespace.
func (c *cluster) checkApplied(t *testing.T, res *Result) {
	t.Helper()
	ns := res.Namespace
	objs := rendered(t, res)
	var names []string
	for _, u := range objs[1:] {
		names = append(names, key(u))
	}
	sort.Strings(names)
	if want := wantObjects(ns); !slices.Equal(names, want) {
		t.Errorf("rendered objects\n got %v\nwant %v", names, want)
	}
	if len(res.Applied) != len(objs) {
		t.Errorf("applied %d objects, rendered %d (+ Namespace)", len(res.Applied), len(objs))
	}
	for _, u := range objs {
		live := c.get(t, u)
		if live == nil {
			t.Errorf("%s does not exist", key(u))
			continue
		}
		owned := false
		for _, mf := range live.GetManagedFields() {
			owned = owned || (mf.Manager == DefaultFieldManager && mf.Operation == metav1.ManagedFieldsOperationApply)
		}
		// The Namespace is applied with no fields but its name, so the field manager owns
		// nothing there and has no managedFields entry.
		if !owned && u.GetKind() != "Namespace" {
			t.Errorf("%s: no Apply entry of field manager %s in managedFields", key(u), DefaultFieldManager)
		}
		if u.GetKind() == "Deployment" {
			checkDeploymentImages(t, live)
		}
	}

	// The same, typed: the objects kxds's pods depend on.
	ctx := context.Background()
	deps, err := c.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) != len(imageOf) {
		t.Errorf("%d Deployments in %s, want %d", len(deps.Items), ns, len(imageOf))
	}
	for _, d := range deps.Items {
		for _, ctr := range d.Spec.Template.Spec.Containers {
			checkImage(t, "Deployment "+ns+"/"+d.Name, ctr.Image, imageOf[d.Name])
		}
		if d.Name == "xds-deployment" && d.Spec.Template.Spec.ServiceAccountName != "kxds" {
			t.Errorf("xds-deployment runs as ServiceAccount %q, want kxds", d.Spec.Template.Spec.ServiceAccountName)
		}
	}
	if _, err := c.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "kxds", metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceAccount %s/kxds: %v", ns, err)
	}
	role, err := c.cs.RbacV1().ClusterRoles().Get(ctx, "kxds-discovery", metav1.GetOptions{})
	if err != nil {
		t.Errorf("ClusterRole kxds-discovery: %v", err)
	} else if len(role.Rules) == 0 {
		t.Error("ClusterRole kxds-discovery has no rules")
	}
	crb, err := c.cs.RbacV1().ClusterRoleBindings().Get(ctx, "kxds-discovery-"+ns, metav1.GetOptions{})
	if err != nil {
		t.Errorf("ClusterRoleBinding kxds-discovery-%s: %v", ns, err)
	} else if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != "kxds-discovery" ||
		len(crb.Subjects) != 1 || crb.Subjects[0].Kind != "ServiceAccount" || crb.Subjects[0].Name != "kxds" || crb.Subjects[0].Namespace != ns {
		t.Errorf("ClusterRoleBinding kxds-discovery-%s: roleRef %+v subjects %+v", ns, crb.RoleRef, crb.Subjects)
	}
	// RBAC really grants the ServiceAccount what kxds needs (and not writes).
	for verb, want := range map[string]bool{"watch": true, "list": true, "create": false} {
		if got := c.serviceAccountMay(t, ns, verb, "discovery.k8s.io", "endpointslices"); got != want {
			t.Errorf("ServiceAccount %s/kxds may %s endpointslices: %v, want %v", ns, verb, got, want)
		}
	}
}

// serviceAccountMay asks the API server (SubjectAccessReview) whether ServiceAccount ns/kxds
// may verb resource in any namespace.
func (c *cluster) serviceAccountMay(t *testing.T, ns, verb, group, resource string) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":kxds",
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource},
	}}
	got, err := c.cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview: %v", err)
	}
	return got.Status.Allowed
}

// snapshot records resourceVersion and generation of every object of res, as stored.
func (c *cluster) snapshot(t *testing.T, res *Result) map[string]string {
	t.Helper()
	s := map[string]string{}
	for _, u := range rendered(t, res) {
		if live := c.get(t, u); live != nil {
			s[key(u)] = fmt.Sprintf("resourceVersion=%s generation=%d", live.GetResourceVersion(), live.GetGeneration())
		}
	}
	return s
}

func diffSnapshots(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, b := range before {
		if a := after[k]; a != b {
			t.Errorf("%s changed %s: %s -> %s", what, k, b, a)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s created %s", what, k)
		}
	}
}

// canonical is u as JSON (map keys sorted), for comparing whole objects.
func canonical(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	base := bazelOptions(t)
	base.Kubeconfig = c.KubeconfigPath() // its context has no namespace: "default"

	t.Run("dry run creates nothing", func(t *testing.T) {
		o := base
		o.DryRun = true
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Namespace != "default" {
			t.Errorf("namespace %q, want default (the context has none)", res.Namespace)
		}
		if len(res.Applied) != len(wantObjects("default"))+1 {
			t.Errorf("dry run admitted %d objects", len(res.Applied))
		}
		for _, u := range rendered(t, res)[1:] {
			if live := c.get(t, u); live != nil {
				t.Errorf("dry run created %s", key(u))
			}
		}
		// A namespace that does not exist yet: the namespaced objects fail, nothing is created.
		o.Namespace = "kxds-dry"
		if _, err := Run(ctx, o); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("dry run into a missing namespace: %v, want a not-found error", err)
		}
		if _, err := c.cs.CoreV1().Namespaces().Get(ctx, "kxds-dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run created namespace kxds-dry: %v", err)
		}
		if l, _ := c.cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=kxds"}); l != nil && len(l.Items) != 0 {
			t.Errorf("dry run created %d ClusterRoles", len(l.Items))
		}
	})

	var first *Result
	t.Run("apply", func(t *testing.T) {
		o := base
		out := new(bytes.Buffer)
		o.Stdout = out
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		first = res
		c.checkApplied(t, res)
		if n := strings.Count(out.String(), " serverside-applied\n"); n != len(res.Applied) {
			t.Errorf("printed %d lines for %d objects:\n%s", n, len(res.Applied), out)
		}
		if !strings.Contains(out.String(), "deployment/xds-deployment serverside-applied\n") {
			t.Errorf("output:\n%s", out)
		}
	})
	if first == nil {
		t.FailNow()
	}

	t.Run("second apply changes nothing", func(t *testing.T) {
		before := c.snapshot(t, first)
		if len(before) != len(first.Applied) {
			t.Fatalf("%d of %d objects exist", len(before), len(first.Applied))
		}
		// A server-side dry run of the same apply would change nothing either.
		o := base
		o.DryRun = true
		dry, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range rendered(t, dry) {
			live := c.get(t, u)
			if live == nil {
				t.Errorf("%s vanished", key(u))
				continue
			}
			if got, want := canonical(t, dry.Applied[i]), canonical(t, live); got != want {
				t.Errorf("dry-run apply of %s differs from the live object:\n dry: %s\nlive: %s", key(u), got, want)
			}
		}
		second, err := Run(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		diffSnapshots(t, "second apply", before, c.snapshot(t, second))
		for i, u := range second.Applied {
			if rv := first.Applied[i].GetResourceVersion(); u.GetResourceVersion() != rv {
				t.Errorf("second apply of %s returned resourceVersion %s, first %s", key(u), u.GetResourceVersion(), rv)
			}
		}
	})

	t.Run("another namespace", func(t *testing.T) {
		before := c.snapshot(t, first)
		o := base
		o.Namespace = "kxds-demo"
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Namespace != "kxds-demo" {
			t.Errorf("namespace %q", res.Namespace)
		}
		ns, err := c.cs.CoreV1().Namespaces().Get(ctx, "kxds-demo", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("namespace not created: %v", err)
		}
		if ns.Status.Phase != "Active" {
			t.Errorf("namespace kxds-demo is %s", ns.Status.Phase)
		}
		c.checkApplied(t, res)
		// The default namespace's objects, and the shared ClusterRole, stay as they were.
		diffSnapshots(t, "applying to kxds-demo", before, c.snapshot(t, first))
	})

	t.Run("namespace of the kubeconfig context", func(t *testing.T) {
		kc, err := clientcmd.LoadFromFile(c.KubeconfigPath())
		if err != nil {
			t.Fatal(err)
		}
		kc.Contexts[kc.CurrentContext].Namespace = "kxds-ctx"
		o := base
		o.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*kc, o.Kubeconfig); err != nil {
			t.Fatal(err)
		}
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Namespace != "kxds-ctx" {
			t.Fatalf("namespace %q, want the context's kxds-ctx", res.Namespace)
		}
		c.checkApplied(t, res)
	})
}
