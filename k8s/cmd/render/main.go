// Command render renders the manifest templates of k8s/manifests with image references
// pinned by digest (see package render). It is the build action of k8s_manifests
// (k8s/defs.bzl):
//
//	render --namespace=default --registry=localhost:5000/kxds \
//	  --image=echo=echo_image.digest ... --out=kxds.yaml manifests/*.yaml
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/kxds/kxds/k8s/render"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("render: ")
	var images multi
	v := render.Values{Digests: map[string]string{}}
	flag.StringVar(&v.Namespace, "namespace", "default", "namespace of the namespaced objects")
	flag.StringVar(&v.Registry, "registry", "localhost:5000/kxds", "registry and path prefix of the images")
	flag.Var(&images, "image", "NAME=DIGEST_FILE, repeatable")
	out := flag.String("out", "", "output file (default stdout)")
	flag.Parse()
	for _, im := range images {
		n, f, ok := strings.Cut(im, "=")
		if !ok {
			log.Fatalf("--image %q: want NAME=DIGEST_FILE", im)
		}
		d, err := render.ReadDigest(f)
		if err != nil {
			log.Fatal(err)
		}
		v.Digests[n] = d
	}
	b, err := render.Render(flag.Args(), v)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := render.Objects(b); err != nil {
		log.Fatalf("rendered manifests do not parse: %v", err)
	}
	if *out == "" {
		os.Stdout.Write(b)
		return
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
