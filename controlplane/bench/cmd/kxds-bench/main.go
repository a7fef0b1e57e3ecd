// Command kxds-bench compares kxds' xDS server with a naive go-control-plane
// design, driven by the same lightweight xDS clients, and prints a table.
//
//	go run ./controlplane/bench/cmd/kxds-bench -clients 1000 -services 1000 -endpoints 10 -per-client 10
//
// See docs/BENCHMARKS.md for the figures and the other configurations.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kxds/kxds/controlplane/bench"
)

func main() {
	// The server under test is this binary again (see bench/child.go).
	if bench.IsChild() {
		os.Exit(bench.ChildMain())
	}
	var cfg bench.Config
	flag.IntVar(&cfg.Clients, "clients", 1000, "lightweight xDS clients (one ADS stream and node ID each)")
	flag.IntVar(&cfg.Services, "services", 1000, "services")
	flag.IntVar(&cfg.Endpoints, "endpoints", 10, "endpoints per service")
	flag.IntVar(&cfg.PerClient, "per-client", 10, "services each client dials")
	flag.IntVar(&cfg.Span, "span", 0, "clients dial only services [0, span) (0: all)")
	flag.StringVar(&cfg.Source, "source", bench.SourceStatic, "how the server learns of changes: "+
		"static (a svc_config.json the benchmark rewrites), kubernetes (EndpointSlices in a real kube-apiserver, "+
		"which tools/k8s-local/build.sh builds) or sink (the server's source.Sink called directly: the cache alone)")
	flag.IntVar(&cfg.StreamsPerConn, "streams-per-conn", 100, "ADS streams sharing one client connection")
	flag.IntVar(&cfg.Changes, "changes", 200, "endpoint changes timed one at a time")
	flag.Float64Var(&cfg.ChurnRate, "churn-rate", 100, "endpoint changes per second during churn")
	flag.DurationVar(&cfg.ChurnDuration, "churn-duration", 60*time.Second, "churn duration (0 skips churn)")
	flag.DurationVar(&cfg.PhaseBudget, "phase-budget", 90*time.Second, "time limit of each phase")
	flag.IntVar(&cfg.SanityChannels, "sanity", 2, "real grpc-go xDS channels that must get an RPC through")
	flag.BoolVar(&cfg.NoWarmUp, "no-warmup", false, "skip connecting the fleet once to a throwaway server first")
	impls := flag.String("impls", "kxds,baseline", "implementations to run, in order")
	scale := flag.String("scale", "", "instead: cost of a change against the number of services, e.g. 100,10000 "+
		"(-clients clients dial the first -span services; the others only exist)")
	flag.StringVar(&cfg.ProfileDir, "profile-dir", "", "write the server's CPU and heap profiles here (IMPL.cpu.pprof, IMPL.heap.pprof)")
	seed := flag.Uint64("seed", 1, "seed of the sequence of changes")
	flag.Parse()
	cfg.Impls = strings.Split(*impls, ",")
	cfg.Seed = *seed
	cfg.Progress = os.Stderr

	if *scale != "" {
		os.Exit(runScale(cfg, *scale))
	}
	results, err := bench.Run(cfg)
	bench.WriteTable(os.Stdout, fmt.Sprintf("%d clients × %d services × %d endpoints, %d services per client, source %s",
		cfg.Clients, cfg.Services, cfg.Endpoints, cfg.PerClient, cfg.Source), results)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kxds-bench:", err)
		os.Exit(1)
	}
	for _, r := range results {
		if len(r.Errors) > 0 {
			os.Exit(1)
		}
	}
}

// runScale repeats the run for each number of services, with the same
// clients dialing the same -span services, so only the total differs.
func runScale(cfg bench.Config, list string) int {
	if cfg.Span == 0 {
		cfg.Span = 100
	}
	cfg.ChurnDuration = 0
	cfg.SanityChannels = 0
	var points []bench.ScalePoint
	code := 0
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kxds-bench: -scale:", err)
			return 2
		}
		c := cfg
		c.Services = n
		results, err := bench.Run(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kxds-bench:", err)
			code = 1
		}
		points = append(points, bench.ScalePoint{Services: n, Results: results})
		for _, r := range results {
			if len(r.Errors) > 0 {
				code = 1
			}
		}
	}
	bench.WriteScaleTable(os.Stdout, fmt.Sprintf("cost of one endpoint change: %d clients × %d services each, all among the first %d services, source %s",
		cfg.Clients, cfg.PerClient, cfg.Span, cfg.Source), points)
	return code
}
