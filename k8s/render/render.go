// Package render turns the manifest templates of k8s/manifests into Kubernetes objects:
// text/template with the namespace and image references pinned by digest.
//
// Templates see:
//
//	{{ .Namespace }}     the target namespace
//	{{ image "echo" }}   <registry>/echo@sha256:... for an image named "echo"
//	{{ list "a" "b" }}   a list, for range
package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Values are what the templates are rendered with.
type Values struct {
	Namespace string
	// Registry is the registry and path prefix of the images, e.g. localhost:5000/kxds.
	Registry string
	// Digests maps image names to manifest digests (sha256:...).
	Digests map[string]string
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Image returns the digest-pinned reference of the image called name.
func (v Values) Image(name string) (string, error) {
	d, ok := v.Digests[name]
	if !ok {
		known := make([]string, 0, len(v.Digests))
		for k := range v.Digests {
			known = append(known, k)
		}
		sort.Strings(known)
		return "", fmt.Errorf("no image %q (have %v)", name, known)
	}
	if !digestRE.MatchString(d) {
		return "", fmt.Errorf("image %q: bad digest %q", name, d)
	}
	return strings.TrimSuffix(v.Registry, "/") + "/" + name + "@" + d, nil
}

// Validate checks the values themselves.
func (v Values) Validate() error {
	if v.Namespace == "" {
		return fmt.Errorf("empty namespace")
	}
	if v.Registry == "" {
		return fmt.Errorf("empty registry")
	}
	return nil
}

// ReadDigest reads a digest file written by the oci_image rule.
func ReadDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	d := strings.TrimSpace(string(b))
	if !digestRE.MatchString(d) {
		return "", fmt.Errorf("%s: not a sha256 digest: %q", path, d)
	}
	return d, nil
}

// Render renders the template files, in order, into one YAML stream ("---" separated).
func Render(files []string, v Values) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		b, err := RenderOne(filepath.Base(f), string(src), v)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n", filepath.Base(f))
		out.Write(bytes.TrimLeft(b, "-\n"))
		if !bytes.HasSuffix(b, []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// RenderOne renders one template.
func RenderOne(name, src string, v Values) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{
		"image": v.Image,
		"list":  func(xs ...string) []string { return xs },
	}).Parse(src)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Objects splits a YAML stream into objects, skipping empty documents.
func Objects(stream []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("object without apiVersion, kind or name: %v", m)
		}
		objs = append(objs, u)
	}
	return objs, nil
}
