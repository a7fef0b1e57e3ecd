// Command ocibuild assembles a single-platform container image from a static binary, without
// a container engine, and writes it as an OCI image layout directory, a `docker load`-able
// tarball and a file holding the image's manifest digest ("sha256:...").
//
// The image has one layer on an empty base: the binary, a minimal /etc/passwd and /etc/group
// with the non-root user 65532 ("nonroot", as in distroless), /home/nonroot and /tmp. All
// entries have fixed owners, modes and timestamps, and the config has a fixed creation time,
// so the same inputs always give the same digest.
//
// It is the build action of the oci_image rule (tools/oci/defs.bzl); see tools/oci/README.md.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user of every image (distroless' "nonroot").
const (
	nonrootUID = 65532
	nonrootGID = 65532
)

// epoch is the timestamp of every layer entry and of the image config.
var epoch = time.Unix(0, 0).UTC()

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	binary, binaryDest                 string
	files                              multi // src=dest
	entrypoint, cmd, env, labels, tags multi
	ports                              multi
	user, workdir, goos, arch          string
	source, version, revision          string
	versionKey, revisionKey            string
	statusFiles                        multi
	dockerTar, ociLayout, digestOut    string
	layerOut                           string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("ocibuild: ")
	var o options
	flag.StringVar(&o.binary, "binary", "", "the (static) program to put into the image")
	flag.StringVar(&o.binaryDest, "binary_dest", "", "its absolute path in the image (default /app/<basename>)")
	flag.Var(&o.files, "file", "SRC=DEST: extra file for the layer (mode 0644, or 0755 if SRC is executable), repeatable")
	flag.Var(&o.entrypoint, "entrypoint", "entrypoint element, repeatable (default: the binary)")
	flag.Var(&o.cmd, "cmd", "default argument (config Cmd), repeatable")
	flag.Var(&o.env, "env", "KEY=VALUE, repeatable")
	flag.Var(&o.labels, "label", "KEY=VALUE image label, repeatable")
	flag.Var(&o.ports, "expose", "exposed port, e.g. 50051/tcp, repeatable")
	flag.Var(&o.tags, "tag", "repo:tag recorded in the docker tarball, repeatable")
	flag.StringVar(&o.user, "user", fmt.Sprintf("%d:%d", nonrootUID, nonrootGID), "config User")
	flag.StringVar(&o.workdir, "workdir", "/", "config WorkingDir")
	flag.StringVar(&o.goos, "os", "linux", "image OS")
	flag.StringVar(&o.arch, "arch", "amd64", "image architecture")
	flag.StringVar(&o.source, "source", "", "org.opencontainers.image.source label")
	flag.StringVar(&o.version, "version", "", "org.opencontainers.image.version label, unless a status file has -version_key")
	flag.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision label, unless a status file has -revision_key")
	flag.StringVar(&o.versionKey, "version_key", "STABLE_KXDS_VERSION", "workspace status key for the version")
	flag.StringVar(&o.revisionKey, "revision_key", "STABLE_GIT_COMMIT", "workspace status key for the revision")
	flag.Var(&o.statusFiles, "status_file", "Bazel workspace status file (with --stamp), repeatable")
	flag.StringVar(&o.dockerTar, "docker_tar", "", "write a `docker load`-able tarball here")
	flag.StringVar(&o.ociLayout, "oci_layout", "", "write an OCI image layout directory here")
	flag.StringVar(&o.digestOut, "digest", "", "write the image manifest digest (sha256:...) here")
	flag.StringVar(&o.layerOut, "layer_out", "", "also write the uncompressed layer tarball here (debugging)")
	flag.Parse()
	if flag.NArg() != 0 {
		log.Fatalf("unexpected arguments %q", flag.Args())
	}
	if err := run(&o); err != nil {
		log.Fatal(err)
	}
}

func run(o *options) error {
	if o.binary == "" {
		return fmt.Errorf("--binary is required")
	}
	if o.binaryDest == "" {
		o.binaryDest = "/app/" + filepath.Base(o.binary)
	}
	layerBytes, err := buildLayer(o)
	if err != nil {
		return err
	}
	if o.layerOut != "" {
		if err := os.WriteFile(o.layerOut, layerBytes, 0o644); err != nil {
			return err
		}
	}
	img, err := buildImage(o, layerBytes)
	if err != nil {
		return err
	}
	return writeOutputs(o, img)
}

// entry is one file or directory of the layer.
type entry struct {
	name     string // without leading slash
	dir      bool
	mode     int64
	uid, gid int
	data     []byte
}

func buildLayer(o *options) ([]byte, error) {
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, err
	}
	entries := map[string]entry{}
	add := func(e entry) {
		// Parent directories, root-owned, unless given explicitly.
		for d := path.Dir(e.name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{name: d, dir: true, mode: 0o755}
			}
		}
		entries[e.name] = e
	}
	add(entry{name: "tmp", dir: true, mode: 0o1777})
	add(entry{name: "home/nonroot", dir: true, mode: 0o700, uid: nonrootUID, gid: nonrootGID})
	add(entry{name: "etc/passwd", mode: 0o644, data: []byte(
		"root:x:0:0:root:/root:/sbin/nologin\n" +
			fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonrootUID, nonrootGID))})
	add(entry{name: "etc/group", mode: 0o644, data: []byte(
		"root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", nonrootGID))})
	add(entry{name: strings.TrimPrefix(path.Clean(o.binaryDest), "/"), mode: 0o755, data: bin})
	for _, f := range o.files {
		src, dest, ok := strings.Cut(f, "=")
		if !ok || !path.IsAbs(dest) {
			return nil, fmt.Errorf("--file %q: want SRC=/ABS/DEST", f)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		add(entry{name: strings.TrimPrefix(path.Clean(dest), "/"), mode: mode, data: data})
	}

	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names) // parents sort before their children
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func buildImage(o *options, layerBytes []byte) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "ocibuild " + o.binaryDest,
			Comment:   "kxds tools/oci",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = o.goos, o.arch
	cf.Created = v1.Time{Time: epoch}
	cf.Author = ""
	cfg := &cf.Config
	cfg.User = o.user
	cfg.WorkingDir = o.workdir
	cfg.Entrypoint = []string(o.entrypoint)
	if len(cfg.Entrypoint) == 0 {
		cfg.Entrypoint = []string{o.binaryDest}
	}
	cfg.Cmd = []string(o.cmd)
	cfg.Env = append([]string{"PATH=/app:/usr/local/bin:/usr/bin:/bin"}, o.env...)
	if len(o.ports) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for _, p := range o.ports {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	labels, err := imageLabels(o)
	if err != nil {
		return nil, err
	}
	cfg.Labels = labels
	return mutate.ConfigFile(img, cf)
}

// imageLabels merges --label with the OCI source/revision/version labels. With --stamp, the
// workspace status files override --version/--revision.
func imageLabels(o *options) (map[string]string, error) {
	labels := map[string]string{}
	for _, l := range o.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("--label %q: want KEY=VALUE", l)
		}
		labels[k] = v
	}
	status := map[string]string{}
	for _, f := range o.statusFiles {
		if err := readStatus(f, status); err != nil {
			return nil, err
		}
	}
	version, revision := o.version, o.revision
	if v := status[o.versionKey]; v != "" {
		version = v
	}
	if v := status[o.revisionKey]; v != "" {
		revision = v
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.source":   o.source,
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.revision": revision,
	} {
		if v != "" {
			labels[k] = v
		}
	}
	if len(labels) == 0 {
		return nil, nil
	}
	return labels, nil
}

// readStatus parses a Bazel workspace status file ("KEY VALUE" lines).
func readStatus(file string, into map[string]string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), " ")
		into[k] = strings.TrimSpace(v)
	}
	return s.Err()
}

func writeOutputs(o *options, img v1.Image) error {
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if o.dockerTar != "" {
		refs := map[name.Reference]v1.Image{}
		tags := o.tags
		if len(tags) == 0 {
			tags = multi{"kxds/image:latest"}
		}
		for _, t := range tags {
			ref, err := name.NewTag(t)
			if err != nil {
				return fmt.Errorf("--tag %q: %w", t, err)
			}
			refs[ref] = img
		}
		if err := tarball.MultiRefWriteToFile(o.dockerTar, refs); err != nil {
			return err
		}
	}
	if o.ociLayout != "" {
		if err := os.MkdirAll(o.ociLayout, 0o755); err != nil {
			return err
		}
		p, err := layout.Write(o.ociLayout, empty.Index)
		if err != nil {
			return err
		}
		var opts []layout.Option
		if len(o.tags) > 0 {
			if t, err := name.NewTag(o.tags[0]); err == nil {
				opts = append(opts, layout.WithAnnotations(map[string]string{
					"org.opencontainers.image.ref.name": t.TagStr(),
				}))
			}
		}
		if err := p.AppendImage(img, opts...); err != nil {
			return err
		}
	}
	if o.digestOut != "" {
		if err := os.WriteFile(o.digestOut, []byte(d.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
