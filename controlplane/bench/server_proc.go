package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// serverProc is the parent's handle on the child process (see child.go).
type serverProc struct {
	addr    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex // one command at a time
	in      *bufio.Writer
	replies chan string
	// applied counts the changes the server has taken (Sink.Set returned).
	applied atomic.Int64
}

// serverStats is the child's own view of its resource use.
type serverStats struct {
	cpu        time.Duration
	rssKB      int64
	heap       int64
	nacks      int64
	goroutines int64
	stack      int64 // goroutine stacks in use (runtime.MemStats.StackInuse)
}

const replyTimeout = 10 * time.Minute

// startServer starts the child; source are its flags that select discovery
// (feeder.childArgs).
func startServer(impl string, endpoints int, lifetime time.Duration, profileDir, source string) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-server-only")
	args := fmt.Sprintf("-impl %s -endpoints %d -max-lifetime %s %s", impl, endpoints, lifetime, source)
	if profileDir != "" {
		args += " -profile-dir " + profileDir
	}
	cmd.Env = append(os.Environ(), childEnv+"="+args)
	cmd.Stderr = os.Stderr
	// If the parent dies, so does the child (stdin EOF and -max-lifetime are
	// the other two ways out).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{cmd: cmd, stdin: stdin, in: bufio.NewWriter(stdin), replies: make(chan string, 16)}
	go p.read(stdout)
	ready, err := p.await()
	if err != nil {
		p.close()
		return nil, err
	}
	addr, ok := strings.CutPrefix(ready, "ready ")
	if !ok {
		p.close()
		return nil, fmt.Errorf("server said %q, want ready", ready)
	}
	p.addr = addr
	return p, nil
}

func (p *serverProc) read(stdout io.Reader) {
	defer close(p.replies)
	s := bufio.NewScanner(stdout)
	for s.Scan() {
		if n, ok := strings.CutPrefix(s.Text(), "a "); ok {
			v, _ := strconv.ParseInt(n, 10, 64)
			p.applied.Store(v)
			continue
		}
		p.replies <- s.Text()
	}
}

func (p *serverProc) await() (string, error) {
	select {
	case r, ok := <-p.replies:
		if !ok {
			return "", errors.New("server process exited")
		}
		return r, nil
	case <-time.After(replyTimeout):
		return "", errors.New("server process did not answer")
	}
}

func (p *serverProc) send(line string) error {
	if _, err := p.in.WriteString(line + "\n"); err != nil {
		return err
	}
	return p.in.Flush()
}

func (p *serverProc) call(line string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.send(line); err != nil {
		return "", err
	}
	return p.await()
}

// set sends one change without waiting for it (see applied).
func (p *serverProc) set(i, gen int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.send(fmt.Sprintf("set %d %d", i, gen))
}

func (p *serverProc) load(services int, sanity []string) error {
	arg := "-"
	if len(sanity) > 0 {
		arg = strings.Join(sanity, ",")
	}
	r, err := p.call(fmt.Sprintf("load %d %s", services, arg))
	if err == nil && r != "ok" {
		err = fmt.Errorf("load: %q", r)
	}
	return err
}

// sync returns once the server has taken every change sent before.
func (p *serverProc) sync() error {
	r, err := p.call("sync")
	if err == nil && r != "ok" {
		err = fmt.Errorf("sync: %q", r)
	}
	return err
}

// profile runs a profile command (see profile.go) if profiling is on.
func (p *serverProc) profile(what string) error {
	r, err := p.call("profile " + what)
	if err == nil && r != "ok" {
		err = fmt.Errorf("profile %s: %q", what, r)
	}
	return err
}

func (p *serverProc) stats(gc bool) (serverStats, error) {
	line := "stats"
	if gc {
		line += " gc"
	}
	r, err := p.call(line)
	if err != nil {
		return serverStats{}, err
	}
	var cpuUS int64
	var s serverStats
	if _, err := fmt.Sscanf(r, "stats %d %d %d %d %d %d", &cpuUS, &s.rssKB, &s.heap, &s.nacks, &s.goroutines, &s.stack); err != nil {
		return serverStats{}, fmt.Errorf("stats %q: %w", r, err)
	}
	s.cpu = time.Duration(cpuUS) * time.Microsecond
	return s, nil
}

// close ends the child: stdin EOF first, a kill if it lingers.
func (p *serverProc) close() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}
