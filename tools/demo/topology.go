package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// service is one backend service of the demo and its running backends.
type service struct {
	name string
	// ipBase: backend i listens on 127.0.0.(ipBase+i):50051.
	ipBase   int
	backends []*exec.Cmd
}

// maxReplicas keeps each service inside its own range of loopback addresses.
const maxReplicas = 19

// topology owns every child process; all state changes hold mu.
type topology struct {
	mu       sync.Mutex
	dir      string
	bin      string
	services []*service
	others   []*exec.Cmd
	logs     *os.File
}

func (t *topology) service(name string) (*service, error) {
	for _, s := range t.services {
		if s.name == name {
			return s, nil
		}
	}
	names := []string{}
	for _, s := range t.services {
		names = append(names, s.name)
	}
	return nil, fmt.Errorf("unknown service %q (have %v)", name, names)
}

// scale starts or stops backends, then rewrites the config kxds watches.
// New backends start before the config names them; removed ones leave the
// config first and drain before they stop, so no RPC fails.
func (t *topology) scale(name string, replicas int) error {
	if replicas < 0 || replicas > maxReplicas {
		return fmt.Errorf("replicas must be 0-%d, got %d", maxReplicas, replicas)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := t.service(name)
	if err != nil {
		return err
	}
	for len(s.backends) < replicas {
		i := len(s.backends) + 1
		cmd := t.start("echo", "--addr", backendAddr(s, i), "--hostname", fmt.Sprintf("%s-pod-%d", trimSrv(s.name), i), "--drain", "1s")
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start backend: %w", err)
		}
		s.backends = append(s.backends, cmd)
		if err := waitTCP(backendAddr(s, i), 10*time.Second); err != nil {
			return err
		}
	}
	removed := s.backends[replicas:]
	s.backends = s.backends[:replicas]
	if err := t.writeConfig(); err != nil {
		return err
	}
	for _, cmd := range removed {
		cmd.Process.Signal(syscall.SIGTERM)
		go cmd.Wait()
	}
	return nil
}

func (t *topology) configPath() string { return filepath.Join(t.dir, "svc_config.json") }

// writeConfig renders svc_config.json in the original format plus endpoints,
// replacing the file atomically.
func (t *topology) writeConfig() error {
	type svc struct {
		ServiceName     string   `json:"serviceName"`
		Namespace       string   `json:"namespace"`
		PortName        string   `json:"portName"`
		Protocol        string   `json:"protocol"`
		GRPCServiceName string   `json:"grpcServiceName"`
		Zone            string   `json:"zone"`
		Region          string   `json:"region"`
		Endpoints       []string `json:"endpoints"`
	}
	cfg := struct {
		Services []svc `json:"services"`
	}{}
	for _, s := range t.services {
		c := svc{s.name, "default", "grpc", "tcp", "echo.EchoServer", "us-central1-a", "us-central1", []string{}}
		for i := range s.backends {
			c.Endpoints = append(c.Endpoints, backendAddr(s, i+1))
		}
		cfg.Services = append(cfg.Services, c)
	}
	sort.Slice(cfg.Services, func(i, j int) bool { return cfg.Services[i].ServiceName < cfg.Services[j].ServiceName })
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp := t.configPath() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, t.configPath())
}

// start prepares a child process whose output goes to the demo's log file.
func (t *topology) start(binary string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(t.bin, binary), args...)
	cmd.Stdout, cmd.Stderr = t.logs, t.logs
	return cmd
}

// stop ends every child: SIGTERM, then SIGKILL after a grace period.
func (t *topology) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	var all []*exec.Cmd
	for _, s := range t.services {
		all = append(all, s.backends...)
		s.backends = nil
	}
	all = append(all, t.others...)
	var wg sync.WaitGroup
	for _, cmd := range all {
		if cmd.Process == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
			}
		}()
	}
	wg.Wait()
}

func backendAddr(s *service, i int) string {
	return net.JoinHostPort("127.0.0."+strconv.Itoa(s.ipBase+i), "50051")
}

func trimSrv(name string) string {
	if len(name) > 4 && name[len(name)-4:] == "-srv" {
		return name[:len(name)-4]
	}
	return name
}

// waitTCP waits until something accepts connections on addr.
func waitTCP(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not start listening within %v", addr, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
