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
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/kxds/kxds/controlplane/internal/admin"
	"github.com/kxds/kxds/controlplane/internal/config"
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
	XDSAddr   string
	AdminAddr string
	// ConfigPath is svc_config.json on disk; or ConfigMap ("namespace/name")
	// reads it through the Kubernetes API. Exactly one is required.
	ConfigPath    string
	ConfigMap     string
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
	// Kube configures the API client (--discovery=kubernetes, ConfigMap).
	Kube KubeOptions
	Log  *slog.Logger
	// Listening, if set, is called with the bound addresses (tests use :0).
	Listening func(xds, admin net.Addr)
}

// Run serves until ctx ends. Errors in the options or the initial config are
// returned before any xDS client is answered.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	log := o.Log
	m := metrics.New(log)
	disc, err := NewDiscovery(o, m)
	if err != nil {
		return err
	}

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

	var checker *health.Checker
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
	adminDone := make(chan error, 1)
	go func() {
		log.Info("admin server listening", "addr", adminLis.Addr().String())
		if err := adminSrv.Serve(adminLis); !errors.Is(err, http.ErrServerClosed) {
			adminDone <- fmt.Errorf("admin server: %w", err)
		}
		close(adminDone)
	}()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adminSrv.Shutdown(shutdownCtx)
	}()

	// The admin server answers (not ready) while the config is awaited.
	src, watchConfig, err := disc.Start(ctx)
	if err != nil {
		return err
	}
	var sink source.Sink = reg
	if o.HealthCheck {
		hopts := o.Health
		hopts.Logger = log
		checker = health.NewChecker(reg, hopts)
		defer checker.Close()
		sink = checker
	}
	grpcSrv := xdsserver.NewGRPCServer(ctx, cache, tracker)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case err := <-adminDone:
			return err
		case <-ctx.Done():
			return nil
		}
	})
	g.Go(func() error { return src.Run(ctx, sink) })
	g.Go(func() error { return watchConfig(ctx) })
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
		return nil
	})
	return g.Wait()
}
