// Command apply renders the kxds manifests (package render: namespace, images pinned by
// digest) and server-side applies them to a cluster with client-go; no kubectl needed.
// The logic is package github.com/kxds/kxds/k8s/apply; this only parses flags.
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
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kxds/kxds/k8s/apply"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("apply: ")
	var images, templates multi
	var o apply.Options
	flag.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	flag.StringVar(&o.Context, "context", "", "kubeconfig context (default: the current context)")
	flag.StringVar(&o.Namespace, "namespace", "", "namespace for kxds and the demo (default: the context's, else default)")
	flag.StringVar(&o.Registry, "registry", "localhost:5000/kxds", "registry and path prefix the images were pushed to")
	flag.StringVar(&o.FieldManager, "field-manager", apply.DefaultFieldManager, "server-side apply field manager")
	flag.BoolVar(&o.DryRun, "dry-run", false, "server-side dry run: validate and admit, persist nothing")
	flag.BoolVar(&o.Print, "print", false, "only print the rendered manifests")
	flag.BoolVar(&o.CreateNamespace, "create-namespace", true, "also apply the Namespace object itself")
	flag.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "overall timeout")
	flag.Var(&images, "image", "NAME=DIGEST_FILE, repeatable (set by the Bazel target)")
	flag.Var(&templates, "template", "manifest template file, repeatable (set by the Bazel target); also as arguments")
	flag.Parse()
	o.Templates = append(templates, flag.Args()...)
	for _, im := range images {
		if err := o.AddImage(im); err != nil {
			log.Fatal(err)
		}
	}
	// `bazel run` starts us in the runfiles tree: user paths are relative to where bazel ran.
	if wd := os.Getenv("BUILD_WORKING_DIRECTORY"); wd != "" && o.Kubeconfig != "" && !filepath.IsAbs(o.Kubeconfig) {
		o.Kubeconfig = filepath.Join(wd, o.Kubeconfig)
	}
	if _, err := apply.Run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}
