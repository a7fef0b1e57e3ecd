package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type demoFlags struct {
	be1, be2                                      int
	frontendAddr, xdsAddr, adminAddr, controlAddr string
	dir                                           string
	check                                         bool
}

func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var f demoFlags
	fs.IntVar(&f.be1, "be1", 2, "initial backends of be1-srv")
	fs.IntVar(&f.be2, "be2", 2, "initial backends of be2-srv")
	fs.StringVar(&f.frontendAddr, "frontend-addr", "127.0.0.1:8080", "frontend HTTP address")
	fs.StringVar(&f.xdsAddr, "xds-addr", "127.0.0.1:18000", "kxds xDS address")
	fs.StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:18080", "kxds admin address")
	fs.StringVar(&f.controlAddr, "control-addr", defaultControlAddr, "where `demo scale` reaches this demo")
	fs.StringVar(&f.dir, "dir", "", "state directory (binaries, config, logs); default a new temporary directory")
	fs.BoolVar(&f.check, "check", false, "self-test: start, verify both services answer from every backend, scale be1-srv to 10 and back to 3 live, then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, n := range []int{f.be1, f.be2} {
		if n < 0 || n > maxReplicas {
			return fmt.Errorf("--be1/--be2 must be 0-%d", maxReplicas)
		}
	}
	// A port in use would otherwise be found only by a child dying, or worse,
	// by the readiness probe reaching someone else's server.
	for _, a := range []struct{ flag, addr string }{
		{"--frontend-addr", f.frontendAddr}, {"--xds-addr", f.xdsAddr}, {"--admin-addr", f.adminAddr}, {"--control-addr", f.controlAddr},
	} {
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			return fmt.Errorf("%s %s is not free (is another demo running?): %w", a.flag, a.addr, err)
		}
		l.Close()
	}
	if f.dir == "" {
		d, err := os.MkdirTemp("", "kxds-demo-")
		if err != nil {
			return err
		}
		f.dir = d
	}
	t := &topology{dir: f.dir, bin: filepath.Join(f.dir, "bin"),
		services: []*service{{name: "be1-srv", ipBase: 10}, {name: "be2-srv", ipBase: 30}}}
	logs, err := os.Create(filepath.Join(f.dir, "demo.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	t.logs = logs

	fmt.Printf("building kxds, echo and frontend into %s ...\n", t.bin)
	if err := build(t.bin); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer t.stop()
	if err := t.up(f); err != nil {
		return fmt.Errorf("%w (logs: %s)", err, logs.Name())
	}
	control := &http.Server{Handler: controlHandler(t), ReadHeaderTimeout: 5 * time.Second}
	lis, err := net.Listen("tcp", f.controlAddr)
	if err != nil {
		return fmt.Errorf("--control-addr: %w", err)
	}
	go control.Serve(lis)
	defer control.Close()

	front := "http://" + f.frontendAddr
	if f.check {
		return selfCheck(t, front)
	}
	fmt.Printf(`
kxds demo is running (logs: %[1]s)

  curl %[2]s/be1-srv              # 15 RPCs, one line per reply: both be1 pods answer
  curl %[2]s/be2-srv              # be2's pods
  curl '%[2]s/be1-srv?format=json'
  open %[2]s/be1-srv in a browser for a bar chart per pod

  go run ./tools/demo scale be1-srv 10   # like kubectl scale, live
  curl http://%[3]s/debug/config   # what kxds serves; also /debug/clients, /metrics

Ctrl-C stops everything.
`, logs.Name(), front, f.adminAddr)
	<-ctx.Done()
	fmt.Println("\nstopping ...")
	return nil
}

// build compiles the three programs of this checkout (found through go.work).
func build(bin string) error {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == "off" {
		return errors.New("run the demo from inside the kxds checkout (go.work not found)")
	}
	cmd := exec.Command("go", "build", "-o", bin+"/", "./controlplane/cmd/kxds", "./echo/cmd/echo", "./frontend/cmd/frontend")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// up starts backends, kxds and the frontend, and waits until all are ready.
func (t *topology) up(f demoFlags) error {
	if err := t.writeConfig(); err != nil {
		return err
	}
	if err := t.scale("be1-srv", f.be1); err != nil {
		return err
	}
	if err := t.scale("be2-srv", f.be2); err != nil {
		return err
	}
	kxds := t.start("kxds", "--config", t.configPath(), "--xds-addr", f.xdsAddr, "--admin-addr", f.adminAddr)
	if err := kxds.Start(); err != nil {
		return err
	}
	t.others = append(t.others, kxds)
	if err := waitHTTP("http://"+f.adminAddr+"/readyz", 20*time.Second); err != nil {
		return fmt.Errorf("kxds: %w", err)
	}
	bootstrap := filepath.Join(t.dir, "bootstrap.json")
	if out, err := exec.Command(filepath.Join(t.bin, "kxds"), "bootstrap", "--xds-server", f.xdsAddr, "--node-id", "demo-frontend",
		"--zone", "us-central1-a", "--region", "us-central1", "--output", bootstrap).CombinedOutput(); err != nil {
		return fmt.Errorf("kxds bootstrap: %v: %s", err, out)
	}
	fe := t.start("frontend", "--addr", f.frontendAddr)
	fe.Env = append(os.Environ(), "GRPC_XDS_BOOTSTRAP="+bootstrap)
	if err := fe.Start(); err != nil {
		return err
	}
	t.others = append(t.others, fe)
	if err := waitHTTP("http://"+f.frontendAddr+"/healthz", 20*time.Second); err != nil {
		return fmt.Errorf("frontend: %w", err)
	}
	return nil
}

func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", timeout, last)
}
