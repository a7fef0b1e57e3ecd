// Package ocilayout reads the single image of an OCI image layout directory written by
// ocibuild, also from Bazel runfiles trees, whose files are symlinks (go-containerregistry
// refuses symlinked blobs, so such a layout is first copied to a temporary directory), and
// unpacks images into a root file system.
package ocilayout

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Image returns the only image of the layout at dir, and its index descriptor. Call cleanup
// when done with the image.
func Image(dir string) (img v1.Image, desc v1.Descriptor, cleanup func(), err error) {
	cleanup = func() {}
	// `bazel run` runfiles: the directory itself may be a symlink (tests: each file is one).
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	if hasSymlinks(dir) {
		tmp, err := os.MkdirTemp("", "ocilayout-")
		if err != nil {
			return nil, desc, cleanup, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if err := copyTree(dir, tmp); err != nil {
			cleanup()
			return nil, desc, func() {}, err
		}
		dir = tmp
	}
	lp, err := layout.FromPath(dir)
	if err == nil {
		var idx v1.ImageIndex
		if idx, err = lp.ImageIndex(); err == nil {
			var m *v1.IndexManifest
			if m, err = idx.IndexManifest(); err == nil {
				if len(m.Manifests) != 1 {
					err = fmt.Errorf("%s: %d manifests, want 1", dir, len(m.Manifests))
				} else {
					desc = m.Manifests[0]
					img, err = lp.Image(desc.Digest)
				}
			}
		}
	}
	if err != nil {
		cleanup()
		return nil, desc, func() {}, err
	}
	return img, desc, cleanup, nil
}

func hasSymlinks(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// copyTree copies the regular files below src (following symlinks) to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		st, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if st.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// Unpack extracts the layers of img into dir, a root file system: regular files and
// directories with their modes (and owners when running as root). Whiteouts, links and
// devices are not supported: ocibuild does not make them.
func Unpack(img v1.Image, dir string) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		err = untar(rc, dir)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("layer entry %q escapes the root", h.Name)
		}
		mode := os.FileMode(h.Mode).Perm()
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("layer entry %q: unsupported type %c", h.Name, h.Typeflag)
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
				return err
			}
		}
		if err := os.Chmod(p, mode); err != nil { // exact mode, regardless of the umask
			return err
		}
	}
}
