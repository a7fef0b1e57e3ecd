// Package apply renders the kxds manifests (package render: namespace, images pinned by
// digest) and server-side applies them to a cluster with client-go; no kubectl needed. It
// is the logic of //k8s:apply (k8s/cmd/apply), which only turns its flags into Options.
//
// The cluster is that of the current kubeconfig context ($KUBECONFIG or ~/.kube/config)
// unless Kubeconfig/Context say otherwise. The namespace defaults to the context's
// namespace, else "default". DryRun asks the API server to validate and admit every object
// without persisting it (server-side dry run). With CreateNamespace the Namespace object is
// applied first; with DryRun a namespace that does not exist yet makes the namespaced
// objects fail, as it would with kubectl.
package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kxds/kxds/k8s/render"
)

// DefaultFieldManager is the server-side apply field manager of //k8s:apply.
const DefaultFieldManager = "kxds-apply"

// Options say what to render and where to apply it. The zero value of each field is
// usable except Templates and Registry; cmd/apply's flag defaults are noted.
type Options struct {
	// Kubeconfig is the kubeconfig file ("": $KUBECONFIG or ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context ("": the current context).
	Context string
	// Namespace for kxds and the demo ("": the context's namespace, else "default").
	Namespace string
	// Registry is the registry and path prefix the images were pushed to, e.g.
	// localhost:5000/kxds (the flag's default).
	Registry string
	// Digests maps image names (echo, frontend, kxds) to manifest digests sha256:...;
	// AddImage fills it from the digest files the Bazel build writes.
	Digests map[string]string
	// Templates are the manifest template files, applied in this order.
	Templates []string
	// FieldManager is the server-side apply field manager ("": DefaultFieldManager).
	FieldManager string
	// DryRun: server-side dry run, validate and admit, persist nothing.
	DryRun bool
	// Print: only write the rendered manifests to Stdout; no cluster is contacted.
	Print bool
	// CreateNamespace: also apply the Namespace object itself (the flag defaults to true).
	CreateNamespace bool
	// Timeout bounds the whole apply (0: no bound beyond ctx; the flag's default is 2m).
	Timeout time.Duration
	// Stdout gets one line per applied object (or the manifests with Print), Stderr a
	// summary line; nil means os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
}

// AddImage parses NAME=DIGEST_FILE (the --image flag, as the Bazel target passes it) and
// records the digest read from DIGEST_FILE, a file written by the oci_image rule.
func (o *Options) AddImage(spec string) error {
	name, file, ok := strings.Cut(spec, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("--image %q: want NAME=DIGEST_FILE", spec)
	}
	d, err := render.ReadDigest(file)
	if err != nil {
		return err
	}
	if o.Digests == nil {
		o.Digests = map[string]string{}
	}
	o.Digests[name] = d
	return nil
}

// Result is what Run did.
type Result struct {
	// Namespace is the namespace the manifests were rendered for.
	Namespace string
	// Manifests is the rendered YAML stream.
	Manifests []byte
	// Applied holds the objects as the API server returned them from the apply (with
	// DryRun: as they would be), in apply order, the Namespace first when created.
	// Empty with Print.
	Applied []*unstructured.Unstructured
}

// Run renders the templates for the namespace and, unless Print, server-side applies every
// object (Force: the field manager takes over conflicting fields, as kubectl apply
// --server-side --force-conflicts does).
func Run(ctx context.Context, o Options) (*Result, error) {
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	fieldManager := o.FieldManager
	if fieldManager == "" {
		fieldManager = DefaultFieldManager
	}
	if len(o.Templates) == 0 {
		return nil, fmt.Errorf("no manifest templates given")
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})

	values := render.Values{Namespace: o.Namespace, Registry: o.Registry, Digests: o.Digests}
	if values.Namespace == "" {
		ns, _, err := cc.Namespace()
		if err != nil && !o.Print {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		if ns == "" {
			ns = "default"
		}
		values.Namespace = ns
	}
	stream, err := render.Render(o.Templates, values)
	if err != nil {
		return nil, err
	}
	objs, err := render.Objects(stream)
	if err != nil {
		return nil, err
	}
	res := &Result{Namespace: values.Namespace, Manifests: stream}
	if o.Print {
		_, err := stdout.Write(stream)
		return res, err
	}

	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "kxds-apply"
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}

	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	suffix := ""
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
		suffix = " (server dry run)"
	}
	fmt.Fprintf(stderr, "applying %d objects to %s, namespace %s%s\n", len(objs), cfg.Host, values.Namespace, suffix)
	if o.CreateNamespace {
		ns := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": values.Namespace},
		}}
		objs = append([]*unstructured.Unstructured{ns}, objs...)
	}
	for _, u := range objs {
		got, err := applyOne(ctx, dyn, mapper, u, opts)
		if err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, got)
		fmt.Fprintf(stdout, "%s/%s serverside-applied%s\n", strings.ToLower(u.GetKind()), u.GetName(), suffix)
	}
	return res, nil
}

func applyOne(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, u *unstructured.Unstructured, opts metav1.ApplyOptions) (*unstructured.Unstructured, error) {
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk, u.GetName(), err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			return nil, fmt.Errorf("%s %s: namespaced object without namespace", gvk.Kind, u.GetName())
		}
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	got, err := ri.Apply(ctx, u.GetName(), u, opts)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	return got, nil
}
