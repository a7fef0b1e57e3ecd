package main

import (
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPush pushes the test image to an in-memory registry and reads it back by digest and tag.
func TestPush(t *testing.T) {
	if os.Getenv("LAYOUT") == "" {
		// The image it pushes is a Bazel build output; tools/test runs this
		// under bazel test too.
		t.Skip("$LAYOUT not set: this test pushes an image built by Bazel; run it with bazel test")
	}
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	dir := filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), os.Getenv("LAYOUT"))
	want, err := os.ReadFile(filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), os.Getenv("DIGEST")))
	if err != nil {
		t.Fatal(err)
	}

	repo := u.Host + "/kxds/hello" // 127.0.0.1:port: plain HTTP
	got, err := push(repo, dir, []string{"v1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != repo+"@"+string(want) {
		t.Errorf("pushed %s, want %s@%s", got, repo, want)
	}
	for _, r := range []string{got, repo + ":v1"} {
		ref, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(ref)
		if err != nil {
			t.Fatalf("get %s: %v", r, err)
		}
		if desc.Digest.String() != string(want) {
			t.Errorf("%s: digest %s, want %s", r, desc.Digest, want)
		}
		if !strings.Contains(string(desc.MediaType), "oci") {
			t.Errorf("%s: media type %s", r, desc.MediaType)
		}
	}
}
