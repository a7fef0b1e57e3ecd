package protos_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates every .proto into a temporary directory
// with the pinned generators and fails when a committed *.pb.go differs, is
// missing, or has no .proto behind it.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if os.Getenv("KXDS_SKIP_PROTO_CHECK") != "" {
		t.Skip("KXDS_SKIP_PROTO_CHECK is set (hermetic builds without the Go module proxy)")
	}
	out := t.TempDir()
	cmd := exec.Command("./generate.sh", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("generate.sh: %v", err)
	}
	want := generatedFiles(t, out)
	got := generatedFiles(t, ".")
	if len(want) == 0 {
		t.Fatal("generate.sh produced no files")
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s is not committed; run protos/generate.sh", name)
		case !bytes.Equal(g, w):
			t.Errorf("%s is stale; run protos/generate.sh", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s has no .proto behind it; delete it", name)
		}
	}
}

func generatedFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pb.go") {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
