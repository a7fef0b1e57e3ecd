// Command echo is the backend kxds routes to: a gRPC EchoServer that names the
// host that answered, with grpc.health.v1 and a drain on SIGTERM/SIGINT so
// that clients stop picking it before it goes away.
//
// A second SIGTERM/SIGINT during the drain kills it immediately.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kxds/kxds/echo/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run returns the exit code: 0 after a clean shutdown, 1 when serving failed,
// 2 for bad flags.
func run(args []string, stderr io.Writer) int {
	defaultHostname, _ := os.Hostname()
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":50051", "address to serve gRPC on")
	hostname := fs.String("hostname", defaultHostname, "name put in every reply, normally the pod name")
	drain := fs.Duration("drain", 5*time.Second, "how long to keep answering while reporting NOT_SERVING after SIGTERM/SIGINT, so clients move away first")
	stopTimeout := fs.Duration("stop-timeout", 10*time.Second, "how long in-flight RPCs may run after the drain before they are cancelled")
	streamInterval := fs.Duration("stream-interval", 0, fmt.Sprintf("pause between the %d replies of SayHelloStream", server.StreamReplies))
	reflection := fs.Bool("reflection", true, "register the gRPC reflection service (for grpcurl)")
	debug := fs.Bool("debug", false, "log every RPC")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // flag has already printed the error and usage
	}
	if err := validate(fs, *hostname, *drain, *stopTimeout, *streamInterval); err != nil {
		fmt.Fprintf(stderr, "echo: %v\n", err)
		return 2
	}

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	backend, err := server.NewBackend(server.Options{
		Hostname:       *hostname,
		StreamInterval: *streamInterval,
		Reflection:     *reflection,
		Logger:         logger,
	})
	if err != nil {
		fmt.Fprintf(stderr, "echo: %v\n", err)
		return 2
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "echo: cannot listen on --addr %q: %v\n", *addr, err)
		return 1
	}

	signals, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()
	served := make(chan error, 1)
	go func() { served <- backend.Serve(lis) }()

	select {
	case err := <-served:
		logger.Error("echo backend failed", "err", err)
		return 1
	case <-signals.Done():
	}
	// Restore default signal handling so that a second signal kills us.
	stopSignals()
	logger.Info("signal received, shutting down", "drain", *drain, "stop_timeout", *stopTimeout)

	ctx, cancel := context.WithTimeout(context.Background(), *drain+*stopTimeout)
	defer cancel()
	if err := backend.Shutdown(ctx, *drain); err != nil {
		logger.Error("unclean shutdown", "err", err)
		return 1
	}
	if err := <-served; err != nil {
		logger.Error("echo backend failed", "err", err)
		return 1
	}
	return 0
}

func validate(fs *flag.FlagSet, hostname string, drain, stopTimeout, streamInterval time.Duration) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q; all settings are flags, see --help", fs.Args())
	case strings.TrimSpace(hostname) == "":
		return errors.New("--hostname is empty and the OS hostname is unknown; pass --hostname")
	case drain < 0:
		return fmt.Errorf("--drain must not be negative, got %v", drain)
	case stopTimeout <= 0:
		return fmt.Errorf("--stop-timeout must be positive, got %v", stopTimeout)
	case streamInterval < 0:
		return fmt.Errorf("--stream-interval must not be negative, got %v", streamInterval)
	}
	return nil
}
