// Command frontend serves the kxds demo frontend (package app): GET /<service>
// calls that echo service over xDS and shows which pods answered.
//
// It registers the xds resolver, which reads its bootstrap from
// GRPC_XDS_BOOTSTRAP (a file) or GRPC_XDS_BOOTSTRAP_CONFIG (the JSON itself).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "google.golang.org/grpc/xds" // registers the xds:/// resolver and balancers

	"github.com/kxds/kxds/frontend/app"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, os.Getenv))
}

// run returns the exit code: 0 after a clean shutdown, 1 when serving failed,
// 2 for bad flags or environment.
func run(args []string, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("frontend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8080", "HTTP address to serve on")
	template := fs.String("target-template", app.DefaultTargetTemplate, "gRPC target for a service; %s is replaced by the service name from the URL")
	rpcTimeout := fs.Duration("rpc-timeout", app.DefaultRPCTimeout, "deadline of each RPC")
	rpcs := fs.Int("rpcs", app.DefaultRPCs, fmt.Sprintf("RPCs per request when it has no ?n= (1..%d)", app.MaxRPCs))
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "how long requests in progress may finish after SIGTERM/SIGINT")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // flag has already printed the error and usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "frontend: unexpected arguments %q; all settings are flags, see --help\n", fs.Args())
		return 2
	}
	// app.Config treats zero as "use the default"; on the command line a zero
	// is a mistake, so check here rather than rely on the library.
	if *rpcs < 1 || *rpcs > app.MaxRPCs {
		fmt.Fprintf(stderr, "frontend: --rpcs must be between 1 and %d, got %d\n", app.MaxRPCs, *rpcs)
		return 2
	}
	if *rpcTimeout <= 0 || *shutdownTimeout <= 0 {
		fmt.Fprintf(stderr, "frontend: --rpc-timeout and --shutdown-timeout must be positive, got %v and %v\n", *rpcTimeout, *shutdownTimeout)
		return 2
	}
	if err := checkXDSBootstrap(*template, getenv); err != nil {
		fmt.Fprintf(stderr, "frontend: %v\n", err)
		return 2
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	handler, err := app.New(app.Config{
		TargetTemplate: *template,
		RPCTimeout:     *rpcTimeout,
		DefaultRPCs:    *rpcs,
		Logger:         logger,
	})
	if err != nil {
		fmt.Fprintf(stderr, "frontend: %v\n", err)
		return 2
	}
	defer handler.Close()

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "frontend: cannot listen on --addr %q: %v\n", *addr, err)
		return 1
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	signals, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	logger.Info("frontend listening", "addr", lis.Addr().String(), "target_template", *template)

	select {
	case err := <-served:
		logger.Error("frontend failed", "err", err)
		return 1
	case <-signals.Done():
	}
	// Restore default signal handling so that a second signal kills us.
	stopSignals()
	logger.Info("signal received, shutting down", "timeout", *shutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("unclean shutdown", "err", err)
		return 1
	}
	return 0
}
