// Package imagetest checks the images that oci_image builds (//tools/oci/testdata): their
// config, their single layer, that the docker tarball and the OCI layout hold the same image
// with the digest the rule reports, that the same inputs give the same digest, and that the
// unpacked image runs its entrypoint on an otherwise empty root file system.
package imagetest

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/kxds/kxds/tools/oci/ocilayout"
)

// env returns the file named by the go_test's env entry k: a $(rootpath) below the
// workspace's runfiles directory (rules_go runs tests in the package directory).
func env(t *testing.T, k string) string {
	t.Helper()
	v := os.Getenv(k)
	if v == "" {
		// The images under test are Bazel build outputs; tools/test runs this
		// under bazel test too.
		t.Skipf("$%s not set: this test checks images built by Bazel; run it with bazel test", k)
	}
	return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), v)
}

func layoutImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	img, desc, cleanup, err := ocilayout.Image(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "latest" {
		t.Errorf("ref.name annotation %q, want latest", got)
	}
	return img
}

func digestFile(t *testing.T, k string) string {
	t.Helper()
	b, err := os.ReadFile(env(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfig(t *testing.T) {
	img := layoutImage(t, env(t, "LAYOUT"))
	mt, err := img.MediaType()
	if err != nil || mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("media type %q %v", mt, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	for _, chk := range []struct{ what, got, want string }{
		{"os", cf.OS, "linux"},
		{"arch", cf.Architecture, "amd64"},
		{"user", c.User, "65532:65532"},
		{"entrypoint", fmt.Sprint(c.Entrypoint), "[/app/hello]"},
		{"cmd", fmt.Sprint(c.Cmd), "[--greeting=hello from the image]"},
		{"created", cf.Created.UTC().Format(time.RFC3339), "1970-01-01T00:00:00Z"},
		{"source", c.Labels["org.opencontainers.image.source"], "https://github.com/kxds/kxds"},
		{"version", c.Labels["org.opencontainers.image.version"], "0.0.0-dev"}, // unstamped default
		{"revision", c.Labels["org.opencontainers.image.revision"], "unknown"},
		{"title", c.Labels["org.opencontainers.image.title"], "hello"},
	} {
		if chk.got != chk.want {
			t.Errorf("%s = %q, want %q", chk.what, chk.got, chk.want)
		}
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v", c.ExposedPorts)
	}
}

// TestLayer checks every entry of the single layer: fixed owners, modes and times.
func TestLayer(t *testing.T) {
	img := layoutImage(t, env(t, "LAYOUT"))
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	want := map[string]string{ // name -> "mode uid:gid"
		"app/":          "755 0:0",
		"app/hello":     "755 0:0",
		"etc/":          "755 0:0",
		"etc/group":     "644 0:0",
		"etc/passwd":    "644 0:0",
		"home/":         "755 0:0",
		"home/nonroot/": "700 65532:65532",
		"tmp/":          "1777 0:0",
	}
	got := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = fmt.Sprintf("%o %d:%d", h.Mode, h.Uid, h.Gid)
		if !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
		if h.Name == "etc/passwd" {
			b, _ := io.ReadAll(tr)
			if !bytes.Contains(b, []byte("nonroot:x:65532:65532:")) {
				t.Errorf("etc/passwd: %q", b)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("layer entries\n got %v\nwant %v", got, want)
	}
}

// TestDigests: the .digest file, the OCI layout and the docker tarball agree, and the twin
// target (same inputs, separate actions) has the same digest.
func TestDigests(t *testing.T) {
	img := layoutImage(t, env(t, "LAYOUT"))
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got := digestFile(t, "DIGEST"); got != d.String() {
		t.Errorf(".digest file %q, layout image %s", got, d)
	}
	if twin := digestFile(t, "TWIN_DIGEST"); twin != d.String() {
		t.Errorf("not reproducible: twin image %s, image %s", twin, d)
	}
	tb, err := tarball.ImageFromPath(env(t, "TARBALL"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := img.ConfigName()
	c2, err := tb.ConfigName()
	if err != nil || c1 != c2 {
		t.Errorf("docker tarball config %s (%v), layout config %s", c2, err, c1)
	}
	l1, _ := img.Layers()
	l2, _ := tb.Layers()
	d1, _ := l1[0].DiffID()
	d2, _ := l2[0].DiffID()
	if d1 != d2 {
		t.Errorf("layer diff IDs differ: %s vs %s", d1, d2)
	}
}

// TestRunEntrypoint unpacks the image and runs its entrypoint + cmd, and the entrypoint with
// --help. As root it runs chrooted into the unpacked image as the image's user (a static
// binary needs nothing else); otherwise directly.
func TestRunEntrypoint(t *testing.T) {
	img := layoutImage(t, env(t, "LAYOUT"))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ocilayout.Unpack(img, root); err != nil {
		t.Fatal(err)
	}
	chroot := os.Geteuid() == 0

	run := func(args ...string) (string, error) {
		argv := append(append([]string{}, cf.Config.Entrypoint...), args...)
		var cmd *exec.Cmd
		if chroot {
			cmd = exec.Command(argv[0], argv[1:]...)
			cmd.Path = argv[0] // resolved inside the chroot
			cmd.Dir = "/"
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Chroot:     root,
				Credential: &syscall.Credential{Uid: 65532, Gid: 65532},
			}
		} else {
			cmd = exec.Command(filepath.Join(root, argv[0]), argv[1:]...)
		}
		cmd.Env = cf.Config.Env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run(cf.Config.Cmd...)
	if err != nil {
		t.Fatalf("entrypoint + cmd: %v\n%s", err, out)
	}
	want := "hello from the image from uid "
	if chroot {
		want += "65532"
	}
	if !strings.HasPrefix(out, want) {
		t.Errorf("output %q, want prefix %q", out, want)
	}
	t.Logf("chroot=%v: %s", chroot, strings.TrimSpace(out))

	out, err = run("--help")
	if err != nil || !strings.Contains(out, "-greeting") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}
