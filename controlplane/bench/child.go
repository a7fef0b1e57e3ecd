package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// The server under test runs in a child process: the benchmark binary (or
// test binary) re-executed with childEnv set. It takes commands on stdin, one
// per line, and answers on stdout, so the parent can drive discovery and read
// the server's own CPU time and memory apart from the clients':
//
//	load M ADDR,ADDR|-   -source sink: services 0..M-1 at generation 0, plus
//	                      "sanity" with real echo backends, then Synced;
//	                      other sources: start the source, wait until it
//	                      has synced                         → "ok"
//	set I GEN            one change (Sink.Set; -source sink only)
//	stats [gc]           resource use                       → "stats CPU_US RSS_KB HEAP_B NACKS GOROUTINES STACK_B"
//	sync                 barrier                            → "ok"
//	profile WHAT         cpu-start, cpu-stop or heap (see profile.go) → "ok"
//
// Whatever the source, it also writes "a N" each time the server has taken
// changes (N so far; see takenSink).
//
// It exits when stdin closes (the parent is gone) or after -max-lifetime.
const childEnv = "KXDS_BENCH_CHILD"

// IsChild reports whether this process was started as the server under test.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// ChildMain runs the server under test; its flags come from childEnv.
func ChildMain() int {
	fs := flag.NewFlagSet("kxds-bench -server-only", flag.ContinueOnError)
	impl := fs.String("impl", "kxds", "kxds or baseline")
	k := fs.Int("endpoints", 10, "endpoints per service")
	lifetime := fs.Duration("max-lifetime", time.Hour, "exit after this long whatever happens")
	profileDir := fs.String("profile-dir", "", "where to write pprof files (none if empty)")
	src := fs.String("source", SourceSink, "sink, static or kubernetes (see startDiscovery)")
	configPath := fs.String("config", "", "svc_config.json (sources other than sink)")
	kubeconfig := fs.String("kubeconfig", "", "the API server's kubeconfig (-source kubernetes)")
	if err := fs.Parse(strings.Fields(os.Getenv(childEnv))); err != nil {
		return 2
	}
	time.AfterFunc(*lifetime, func() {
		fmt.Fprintln(os.Stderr, "kxds-bench server: max lifetime reached; exiting")
		os.Exit(3)
	})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	prof := &profiler{dir: *profileDir, impl: *impl}
	defer prof.command("cpu-stop")
	nacks := &nackCounter{}
	var s serverUnderTest
	switch *impl {
	case "kxds":
		s = newKxdsServer(ctx, log, nacks)
	case "baseline":
		s = newBaselineServer(ctx, log, nacks)
	default:
		fmt.Fprintf(os.Stderr, "unknown -impl %q\n", *impl)
		return 2
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go s.grpc().Serve(lis)
	defer s.grpc().Stop()

	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex // discovery reports "a N" from its own goroutine
	reply := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	sink := newTakenSink(s.sink(), func(n int) { reply("a %d", n) })
	discoveryErrs := make(chan error, 1)
	go func() {
		// A config rejected or a source failing is a bug of the benchmark:
		// the parent sees the server exit.
		err := <-discoveryErrs
		fmt.Fprintln(os.Stderr, "kxds-bench server: discovery:", err)
		os.Exit(1)
	}()
	reply("ready %s", lis.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "load":
			if *src != SourceSink {
				if err := startDiscovery(ctx, *src, *configPath, *kubeconfig, sink, log, discoveryErrs); err != nil {
					fmt.Fprintln(os.Stderr, "kxds-bench server: discovery:", err)
					return 1
				}
				<-sink.synced
				reply("ok")
				continue
			}
			m, _ := strconv.Atoi(f[1])
			for i := range m {
				sink.Set(benchService(i, 0, *k))
			}
			if f[2] != "-" {
				sink.Set(sanityService(strings.Split(f[2], ",")))
			}
			sink.Synced()
			reply("ok")
		case "set":
			i, _ := strconv.Atoi(f[1])
			gen, _ := strconv.Atoi(f[2])
			sink.Set(benchService(i, gen, *k))
		case "stats":
			if len(f) > 1 && f[1] == "gc" {
				// Live memory only, returned to the OS, so deltas compare.
				runtime.GC()
				debug.FreeOSMemory()
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			reply("stats %d %d %d %d %d %d", cpuMicros(), rssKB(), ms.HeapAlloc, nacks.n.Load(), runtime.NumGoroutine(), ms.StackInuse)
		case "sync":
			reply("ok")
		case "profile":
			if err := prof.command(f[1]); err != nil {
				reply("error %v", err)
				continue
			}
			reply("ok")
		default:
			fmt.Fprintf(os.Stderr, "unknown command %q\n", in.Text())
			return 2
		}
	}
	return 0
}

// sanityService is served by real echo backends, for the real grpc-go channels.
func sanityService(addrs []string) model.Service {
	svc := model.Service{Key: model.ServiceKey{Namespace: benchNamespace, Name: sanityTarget}, Port: servicePort}
	for _, a := range addrs {
		ap := netip.MustParseAddrPort(a)
		svc.Endpoints = append(svc.Endpoints, model.Endpoint{Address: ap.Addr(), Port: uint32(ap.Port()), Hostname: a})
	}
	return svc
}

const sanityTarget = "sanity"
