// Command ocipush pushes images from OCI image layout directories (as written by ocibuild)
// to a registry chosen at run time, by digest, and optionally tags them.
//
//	ocipush --registry=registry.example.com/kxds --image=echo=path/to/echo_oci [--tag=v1.2.3]
//
// pushes path/to/echo_oci to registry.example.com/kxds/echo and prints the pushed reference
// registry.example.com/kxds/echo@sha256:... The manifest is pushed byte for byte as built, so
// the digest is the one the build wrote to the image's .digest file (and into rendered
// Kubernetes manifests). Credentials come from the docker config (~/.docker/config.json or
// $DOCKER_CONFIG). Registries on localhost / 127.0.0.1 are spoken to over plain HTTP;
// --insecure allows that for any registry.
//
// It is the program behind the oci_push rule (tools/oci/defs.bzl), normally started with
// `bazel run //some:push -- --registry=...`.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kxds/kxds/tools/oci/ocilayout"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("ocipush: ")
	var images, tags multi
	registry := flag.String("registry", "", "registry and path prefix, e.g. registry.example.com/kxds; each image goes to <registry>/<name>")
	flag.Var(&images, "image", "NAME=OCI_LAYOUT_DIR, repeatable")
	flag.Var(&tags, "tag", "also tag each pushed image with this tag, repeatable")
	insecure := flag.Bool("insecure", false, "allow plain HTTP to the registry")
	flag.Parse()
	if flag.NArg() != 0 {
		log.Fatalf("unexpected arguments %q", flag.Args())
	}
	if *registry == "" {
		log.Fatal("--registry is required (e.g. bazel run //k8s:push -- --registry=localhost:5000/kxds)")
	}
	if len(images) == 0 {
		log.Fatal("no --image given")
	}
	var nameOpts []name.Option
	if *insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	for _, im := range images {
		n, dir, ok := strings.Cut(im, "=")
		if !ok {
			log.Fatalf("--image %q: want NAME=OCI_LAYOUT_DIR", im)
		}
		ref, err := push(strings.TrimSuffix(*registry, "/")+"/"+n, resolve(dir), tags, nameOpts)
		if err != nil {
			log.Fatalf("%s: %v", n, err)
		}
		fmt.Println(ref)
	}
}

// resolve finds a runfiles-relative path when started by `bazel run` from another directory.
func resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if d := os.Getenv("RUNFILES_DIR"); d != "" {
		return filepath.Join(d, "_main", p)
	}
	return p
}

func push(repo, dir string, tags []string, opts []name.Option) (string, error) {
	img, _, cleanup, err := ocilayout.Image(dir)
	if err != nil {
		return "", err
	}
	defer cleanup()
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	ref, err := name.NewDigest(repo+"@"+d.String(), opts...)
	if err != nil {
		return "", err
	}
	ropts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	if err := remote.Write(ref, img, ropts...); err != nil {
		return "", err
	}
	for _, t := range tags {
		tag, err := name.NewTag(repo+":"+t, opts...)
		if err != nil {
			return "", err
		}
		if err := remote.Tag(tag, img, ropts...); err != nil {
			return "", err
		}
	}
	return ref.String(), nil
}
