// Command apply renders the kxds manifests (package render: namespace, images pinned by
// digest) and server-side applies them to a cluster with client-go; no kubectl needed.
//
//	bazel run //k8s:apply -- [--dry-run] [--namespace=NS] [--context=CTX] [--kubeconfig=FILE]
//	                         [--registry=HOST/PATH] [--print]
//
// The cluster is that of the current kubeconfig context ($KUBECONFIG or ~/.kube/config)
// unless --kubeconfig/--context say otherwise. The namespace defaults to the context's
// namespace, else "default". --dry-run asks the API server to validate and admit every
// object without persisting it (server-side dry run). The images must already be in the
// registry: bazel run //k8s:push -- --registry=... first. The namespace is created too
// (--create-namespace=false to skip); with --dry-run a namespace that does not exist yet
// makes the namespaced objects fail, as it would with kubectl.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
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

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	kubeconfig, context, namespace string
	fieldManager                   string
	dryRun, print, createNamespace bool
	timeout                        time.Duration
	values                         render.Values
	templates                      []string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("apply: ")
	var images, templates multi
	o := options{values: render.Values{Digests: map[string]string{}}}
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	flag.StringVar(&o.context, "context", "", "kubeconfig context (default: the current context)")
	flag.StringVar(&o.namespace, "namespace", "", "namespace for kxds and the demo (default: the context's, else default)")
	flag.StringVar(&o.values.Registry, "registry", "localhost:5000/kxds", "registry and path prefix the images were pushed to")
	flag.StringVar(&o.fieldManager, "field-manager", "kxds-apply", "server-side apply field manager")
	flag.BoolVar(&o.dryRun, "dry-run", false, "server-side dry run: validate and admit, persist nothing")
	flag.BoolVar(&o.print, "print", false, "only print the rendered manifests")
	flag.BoolVar(&o.createNamespace, "create-namespace", true, "also apply the Namespace object itself")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "overall timeout")
	flag.Var(&images, "image", "NAME=DIGEST_FILE, repeatable (set by the Bazel target)")
	flag.Var(&templates, "template", "manifest template file, repeatable (set by the Bazel target); also as arguments")
	flag.Parse()
	o.templates = append(templates, flag.Args()...)
	for _, im := range images {
		n, f, ok := strings.Cut(im, "=")
		if !ok {
			log.Fatalf("--image %q: want NAME=DIGEST_FILE", im)
		}
		d, err := render.ReadDigest(f)
		if err != nil {
			log.Fatal(err)
		}
		o.values.Digests[n] = d
	}
	if err := run(&o); err != nil {
		log.Fatal(err)
	}
}

func run(o *options) error {
	if len(o.templates) == 0 {
		return fmt.Errorf("no manifest templates given")
	}
	// `bazel run` starts us in the runfiles tree: user paths are relative to where bazel ran.
	if wd := os.Getenv("BUILD_WORKING_DIRECTORY"); wd != "" && o.kubeconfig != "" && !filepath.IsAbs(o.kubeconfig) {
		o.kubeconfig = filepath.Join(wd, o.kubeconfig)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})

	o.values.Namespace = o.namespace
	if o.values.Namespace == "" {
		ns, _, err := cc.Namespace()
		if err != nil && !o.print {
			return fmt.Errorf("kubeconfig: %w", err)
		}
		if ns == "" {
			ns = "default"
		}
		o.values.Namespace = ns
	}
	stream, err := render.Render(o.templates, o.values)
	if err != nil {
		return err
	}
	objs, err := render.Objects(stream)
	if err != nil {
		return err
	}
	if o.print {
		_, err := os.Stdout.Write(stream)
		return err
	}

	cfg, err := cc.ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "kxds-apply"
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	opts := metav1.ApplyOptions{FieldManager: o.fieldManager, Force: true}
	suffix := ""
	if o.dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
		suffix = " (server dry run)"
	}
	fmt.Fprintf(os.Stderr, "applying %d objects to %s, namespace %s%s\n", len(objs), cfg.Host, o.values.Namespace, suffix)
	if o.createNamespace {
		ns := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": o.values.Namespace},
		}}
		objs = append([]*unstructured.Unstructured{ns}, objs...)
	}
	for _, u := range objs {
		if err := applyOne(ctx, dyn, mapper, u, opts); err != nil {
			return err
		}
		fmt.Printf("%s/%s serverside-applied%s\n", strings.ToLower(u.GetKind()), u.GetName(), suffix)
	}
	return nil
}

func applyOne(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, u *unstructured.Unstructured, opts metav1.ApplyOptions) error {
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk, u.GetName(), err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			return fmt.Errorf("%s %s: namespaced object without namespace", gvk.Kind, u.GetName())
		}
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	if _, err := ri.Apply(ctx, u.GetName(), u, opts); err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	return nil
}
