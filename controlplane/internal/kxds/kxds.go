// Package kxds wires the control plane from its options: config → discovery
// source → (health checker) → registry → xDS cache → ADS server, plus the admin
// server. cmd/kxds fills Options from flags; tests fill them directly.
package kxds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/kxds/kxds/controlplane/internal/admin"
	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/configwatch"
	"github.com/kxds/kxds/controlplane/internal/health"
	"github.com/kxds/kxds/controlplane/internal/metrics"
	"github.com/kxds/kxds/controlplane/internal/registry"
	"github.com/kxds/kxds/controlplane/internal/source"
	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
	"github.com/kxds/kxds/controlplane/internal/xdsserver"
)

// Options configure one control plane.
type Options struct {
	XDSAddr       string
	AdminAddr     string
	ConfigPath    string
	Discovery     config.Mode
	ClusterDomain string
	// HealthCheck enables active gRPC health checking (per service, where the
	// service's config allows it).
	HealthCheck bool
	Health      health.Options
	// DNSServer ("host:port", empty for the system resolver) and DNSInterval
	// apply to --discovery=dns.
	DNSServer   string
	DNSInterval time.Duration
	Log         *slog.Logger
	// Listening, if set, is called with the bound addresses (tests use :0).
	Listening func(xds, admin net.Addr)
}

// Run serves until ctx ends. Errors in the options or the initial config are
// returned before anything is served.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	log := o.Log
	if o.ConfigPath == "" {
		return errors.New("--config is required: the path of svc_config.json")
	}
	raw, err := os.ReadFile(o.ConfigPath)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Parse(o.ConfigPath, raw, o.Discovery)
	if err != nil {
		return err
	}

	m := metrics.New(log)
	m.ConfigLoaded(nil)
	cache := xdscache.New(m)
	reg := registry.New(cache, translate.Options{ClusterDomain: o.ClusterDomain}, m, log)
	tracker := xdsserver.NewClientTracker(m, log)

	xdsLis, err := net.Listen("tcp", o.XDSAddr)
	if err != nil {
		return fmt.Errorf("--xds-addr: %w", err)
	}
	defer xdsLis.Close()
	adminLis, err := net.Listen("tcp", o.AdminAddr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	defer adminLis.Close()
	if o.Listening != nil {
		o.Listening(xdsLis.Addr(), adminLis.Addr())
	}

	src, onConfig, err := discovery(ctx, o, cfg)
	if err != nil {
		return err
	}
	var sink source.Sink = reg
	var checker *health.Checker
	if o.HealthCheck {
		hopts := o.Health
		hopts.Logger = log
		checker = health.NewChecker(reg, hopts)
		defer checker.Close()
		sink = checker
	}

	ready := func() bool {
		select {
		case <-reg.Ready():
			return true
		default:
			return false
		}
	}
	adminSrv := &http.Server{
		Handler: admin.NewHandler(admin.Sources{
			Ready: ready, Services: reg.Services, Cache: cache, Clients: tracker.Clients, Registry: m.Registry,
			Health: func() any {
				if checker == nil {
					return nil
				}
				return checker.Snapshot()
			},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	grpcSrv := xdsserver.NewGRPCServer(ctx, cache, tracker)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		log.Info("admin server listening", "addr", adminLis.Addr().String())
		if err := adminSrv.Serve(adminLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("admin server: %w", err)
		}
		return nil
	})
	g.Go(func() error { return src.Run(ctx, sink) })
	g.Go(func() error {
		w := &configwatch.Watcher{
			Path: o.ConfigPath, Mode: o.Discovery, Apply: onConfig, Loaded: m.ConfigLoaded, Log: log,
		}
		return w.Run(ctx, raw)
	})
	g.Go(func() error {
		// Answer no client before discovery has synced: an empty answer would
		// read as "no such service".
		select {
		case <-ctx.Done():
			return nil
		case <-reg.Ready():
		}
		m.SetReady()
		log.Info("discovery synced; serving xDS", "addr", xdsLis.Addr().String(), "discovery", o.Discovery)
		if err := grpcSrv.Serve(xdsLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("xDS server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		grpcSrv.Stop()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return adminSrv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}
