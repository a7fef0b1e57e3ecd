package app

import (
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/kxds/kxds/frontend/channelpool"
)

const (
	// DefaultTargetTemplate resolves services through xDS.
	DefaultTargetTemplate = "xds:///%s"
	// DefaultRPCTimeout bounds each RPC, so a dead backend costs one timeout.
	DefaultRPCTimeout = 2 * time.Second
	// DefaultRPCs is how many RPCs a request makes without ?n=.
	DefaultRPCs = 15
	// MaxRPCs caps ?n= so a single request cannot keep the frontend busy.
	MaxRPCs = 1000
)

// Config configures a Handler. The zero value means all defaults.
type Config struct {
	// TargetTemplate builds the gRPC target: %s is replaced by the service
	// name from the URL. Default DefaultTargetTemplate.
	TargetTemplate string
	// RPCTimeout is the deadline of each RPC. Default DefaultRPCTimeout.
	RPCTimeout time.Duration
	// DefaultRPCs is the RPC count when the request has no ?n=, 1..MaxRPCs.
	// Default DefaultRPCs.
	DefaultRPCs int
	// DialOptions are added to every channel (after insecure credentials).
	DialOptions []grpc.DialOption
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.TargetTemplate == "" {
		c.TargetTemplate = DefaultTargetTemplate
	}
	if c.RPCTimeout == 0 {
		c.RPCTimeout = DefaultRPCTimeout
	}
	if c.DefaultRPCs == 0 {
		c.DefaultRPCs = DefaultRPCs
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if err := channelpool.ValidateTemplate(c.TargetTemplate); err != nil {
		return c, err
	}
	if c.RPCTimeout < 0 {
		return c, fmt.Errorf("RPC timeout must be positive, got %v", c.RPCTimeout)
	}
	if c.DefaultRPCs < 1 || c.DefaultRPCs > MaxRPCs {
		return c, fmt.Errorf("default RPC count must be between 1 and %d, got %d", MaxRPCs, c.DefaultRPCs)
	}
	return c, nil
}
