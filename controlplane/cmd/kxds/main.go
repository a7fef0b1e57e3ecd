// Command kxds is the xDS control plane for proxyless gRPC clients.
//
//	kxds [flags]            serve xDS (see -h)
//	kxds bootstrap [flags]  print a gRPC xDS bootstrap file for clients
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/kxds/kxds/controlplane/internal/bootstrap"
	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/health"
	"github.com/kxds/kxds/controlplane/internal/kxds"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bootstrap" {
		os.Exit(runBootstrap(os.Args[2:]))
	}
	os.Exit(runServe(os.Args[1:]))
}

func runServe(args []string) int {
	fs := flag.NewFlagSet("kxds", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kxds [flags]\n       kxds bootstrap [flags]\n\nServes xDS v3 (state-of-the-world ADS) to proxyless gRPC clients.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	o := kxds.Options{}
	fs.StringVar(&o.XDSAddr, "xds-addr", ":18000", "address to serve xDS (gRPC ADS) on")
	fs.StringVar(&o.AdminAddr, "admin-addr", ":18080", "address to serve /healthz, /readyz, /metrics and /debug/ on")
	fs.StringVar(&o.ConfigPath, "config", "", "path of svc_config.json; edits apply live")
	fs.StringVar(&o.ConfigMap, "config-map", "", "read svc_config.json from this ConfigMap (namespace/name, key svc_config.json) instead of --config")
	discovery := fs.String("discovery", defaultDiscovery(), "how endpoints are discovered: kubernetes (default in a cluster), static (endpoints listed in the config; default elsewhere) or dns")
	fs.StringVar(&o.Kube.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in a pod its service account, else KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.Kube.Context, "context", "", "kubeconfig context (default: the current one)")
	fs.StringVar(&o.Kube.Namespace, "namespace", "", "watch only this namespace (needs only a Role); default all namespaces (needs a ClusterRole)")
	fs.BoolVar(&o.Kube.WatchNodes, "watch-nodes", false, "take endpoint regions from their Node's topology.kubernetes.io/region label (needs list/watch on nodes)")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", "cluster.local", "Kubernetes cluster domain, for svc.ns.svc.<domain> target names")
	fs.BoolVar(&o.HealthCheck, "health-check", true, "actively check endpoints with grpc.health.v1 Watch (services may opt out with \"healthCheck\": false)")
	fs.DurationVar(&o.Health.ResponseTimeout, "health-timeout", health.DefaultResponseTimeout, "an endpoint that does not answer SERVING within this time is taken out of EDS")
	fs.DurationVar(&o.Health.RecoverAfter, "health-recover-after", health.DefaultRecoverAfter, "an unhealthy endpoint must report SERVING this long before it gets traffic again")
	fs.StringVar(&o.DNSServer, "dns-server", "", "DNS server (host:port) for --discovery=dns; empty uses the system resolver")
	fs.DurationVar(&o.DNSInterval, "dns-interval", 5*time.Second, "how often --discovery=dns re-resolves SRV records")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kxds: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "kxds: --log-level: %v\n", err)
		return 2
	}
	mode, err := config.ParseMode(*discovery)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kxds: --discovery: %v\n", err)
		return 2
	}
	o.Discovery = mode
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// client-go logs through klog; send it to the same place, in the same format.
	klog.SetSlogLogger(o.Log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := kxds.Run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "kxds: %v\n", err)
		return 1
	}
	return 0
}

// defaultDiscovery is kubernetes inside a pod (where the API server's
// address is in the environment) and static elsewhere.
func defaultDiscovery() string {
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return string(config.ModeKubernetes)
	}
	return string(config.ModeStatic)
}

func runBootstrap(args []string) int {
	fs := flag.NewFlagSet("kxds bootstrap", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kxds bootstrap [flags] > bootstrap.json\n\nPrints a gRPC xDS bootstrap for clients; point GRPC_XDS_BOOTSTRAP at it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	host, _ := os.Hostname()
	o := bootstrap.Options{}
	fs.StringVar(&o.Server, "xds-server", "localhost:18000", "kxds' xDS address as clients reach it (host:port)")
	fs.StringVar(&o.NodeID, "node-id", host, "node ID of the client (any value; shows in /debug/clients)")
	fs.StringVar(&o.Cluster, "node-cluster", "", "node cluster of the client")
	fs.StringVar(&o.Region, "region", "", "client locality: region")
	fs.StringVar(&o.Zone, "zone", "", "client locality: zone")
	fs.StringVar(&o.SubZone, "sub-zone", "", "client locality: sub-zone")
	fs.BoolVar(&o.IgnoreResourceDeletion, "ignore-resource-deletion", false, "keep using a service kxds withdraws (gRFC A53)")
	out := fs.String("output", "-", "file to write, or - for standard output")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b, err := bootstrap.JSON(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kxds bootstrap: %v\n", err)
		return 2
	}
	if *out == "-" {
		os.Stdout.Write(b)
		return 0
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "kxds bootstrap: %v\n", err)
		return 1
	}
	return 0
}
