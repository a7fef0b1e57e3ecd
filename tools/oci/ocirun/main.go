// Command ocirun runs an image built by oci_image without a container engine: it unpacks the
// image of an OCI layout directory into a temporary root file system and runs its entrypoint
// there, with the given arguments (or the image's Cmd if there are none) and the image's
// environment. As root it chroots into the unpacked image and runs as the image's user, so a
// binary that needs anything outside the image (a dynamic loader, say) fails as it would in
// a container; otherwise it runs the entrypoint directly. Its exit status is the program's.
//
//	ocirun --layout=bazel-bin/k8s/echo_image_oci -- --help
//
// The images' smoke tests (//k8s:images_test) use it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/kxds/kxds/tools/oci/ocilayout"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("ocirun: ")
	dir := flag.String("layout", "", "OCI image layout directory (from oci_image)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("--layout is required")
	}
	if wd := os.Getenv("BUILD_WORKING_DIRECTORY"); wd != "" && !filepath.IsAbs(*dir) {
		if _, err := os.Stat(*dir); err != nil {
			*dir = filepath.Join(wd, *dir)
		}
	}
	code, err := run(*dir, flag.Args())
	if err != nil {
		log.Fatal(err)
	}
	os.Exit(code)
}

func run(dir string, args []string) (int, error) {
	img, _, cleanup, err := ocilayout.Image(dir)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	cf, err := img.ConfigFile()
	if err != nil {
		return 0, err
	}
	root, err := os.MkdirTemp("", "ocirun-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil {
		return 0, err
	}
	if err := ocilayout.Unpack(img, root); err != nil {
		return 0, err
	}
	if len(args) == 0 {
		args = cf.Config.Cmd
	}
	argv := append(append([]string{}, cf.Config.Entrypoint...), args...)
	if len(argv) == 0 {
		return 0, errors.New("image has no entrypoint")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = cf.Config.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if os.Geteuid() == 0 {
		uid, gid, err := parseUser(cf.Config.User)
		if err != nil {
			return 0, err
		}
		cmd.Path = argv[0] // resolved inside the chroot
		cmd.Dir = "/"
		if cf.Config.WorkingDir != "" {
			cmd.Dir = cf.Config.WorkingDir
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	} else {
		cmd.Path = filepath.Join(root, argv[0])
	}
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// parseUser understands the numeric "uid[:gid]" users that oci_image sets.
func parseUser(u string) (uint32, uint32, error) {
	if u == "" {
		return 0, 0, nil
	}
	us, gs, _ := strings.Cut(u, ":")
	uid, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("image user %q is not numeric", u)
	}
	gid := uid
	if gs != "" {
		if gid, err = strconv.ParseUint(gs, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("image group in %q is not numeric", u)
		}
	}
	return uint32(uid), uint32(gid), nil
}
