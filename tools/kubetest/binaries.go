package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Environment variables the harness reads.
const (
	// EnvBinDir names a directory holding kube-apiserver, etcd and
	// kube-controller-manager; it overrides the build.sh cache.
	EnvBinDir = "KXDS_K8S_BIN"
	// EnvCache is the cache root build.sh writes to (default $HOME/.cache/kxds).
	EnvCache = "KXDS_CACHE"
	// EnvSkip set to "1" turns the failure of a test whose k8s binaries or pod
	// network are missing into a skip (for machines that cannot have them).
	// Tests whose prerequisites are there run either way.
	EnvSkip = "KXDS_SKIP_K8S_TESTS"
)

const buildHint = "run tools/k8s-local/build.sh (about 13 min cold, cached afterwards), " +
	"or point " + EnvBinDir + " at a dir with the binaries; set " + EnvSkip + "=1 to skip these tests"

// BinDir returns where the Kubernetes binaries are: $KXDS_K8S_BIN, else the
// `current` link that tools/k8s-local/build.sh maintains under
// ${KXDS_CACHE:-$HOME/.cache/kxds}/k8s-bins. Reading the link, rather than
// recomputing build.sh's cache key (versions, Go version, flags hash), keeps
// that computation in one place.
func BinDir() (string, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return dir, nil
	}
	root := os.Getenv(EnvCache)
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locating the k8s binaries: %w", err)
		}
		root = filepath.Join(home, ".cache", "kxds")
	}
	current := filepath.Join(root, "k8s-bins", "current")
	dir, err := filepath.EvalSymlinks(current)
	if err != nil {
		return "", fmt.Errorf("no k8s binaries at %s: %w", current, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".done")); err != nil {
		return "", fmt.Errorf("k8s binaries at %s are incomplete (no .done marker)", dir)
	}
	return dir, nil
}

// requireBinary returns the path of a Kubernetes binary, or ends the test:
// failed with instructions, or skipped when KXDS_SKIP_K8S_TESTS=1.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	dir, err := BinDir()
	if err != nil {
		skipOrFatal(t, "%v: %s", err, buildHint)
	}
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		skipOrFatal(t, "%s: not an executable file: %s", path, buildHint)
	}
	return path
}

// skipRequested reports whether KXDS_SKIP_K8S_TESTS=1.
func skipRequested() bool { return os.Getenv(EnvSkip) == "1" }

// skipOrFatal ends the test: skipped when KXDS_SKIP_K8S_TESTS=1, failed otherwise,
// so a CI machine without the binaries cannot pass by silently skipping.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	if skipRequested() {
		t.Skipf("%s=1: "+format, append([]any{EnvSkip}, args...)...)
	}
	t.Fatalf(format, args...)
}
