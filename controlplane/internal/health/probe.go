package health

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// probe checks one endpoint of one service over its own connection, for as
// long as its context lives; the connection is closed when it ends.
type probe struct {
	addr        string // host:port
	grpcService string // name sent in HealthCheckRequest
	opts        Options
	dials       dialLimiter
	log         *slog.Logger // already carries service and endpoint
	report      func(model.HealthStatus, string)
}

func (p *probe) run(ctx context.Context) {
	conn, err := grpc.NewClient("passthrough:///"+p.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("kxds-health-checker"),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  p.opts.RetryBaseDelay,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   p.opts.RetryMaxDelay,
			},
			MinConnectTimeout: 20 * time.Second, // gRPC's default; zero would mean "the backoff delay"
		}))
	if err != nil {
		// Not expected for an IP:port target; the endpoint stays out until
		// the source changes it.
		p.report(model.HealthUnhealthy, fmt.Sprintf("creating a gRPC client for %s: %v", p.addr, err))
		return
	}
	defer conn.Close()

	observations := make(chan observation)
	judged := make(chan struct{})
	go func() {
		defer close(judged)
		h := hysteresis{responseTimeout: p.opts.ResponseTimeout, recoverAfter: p.opts.RecoverAfter, report: p.report}
		h.run(ctx, observations)
	}()
	p.watch(ctx, healthpb.NewHealthClient(conn), observations)
	<-judged
}

// watch keeps a Watch stream open, re-opening it with backoff, and falls back
// to polling Check when the backend does not implement Watch.
func (p *probe) watch(ctx context.Context, client healthpb.HealthClient, out chan<- observation) {
	bo := retryBackoff{base: p.opts.RetryBaseDelay, max: p.opts.RetryMaxDelay}
	for {
		err := p.watchOnce(ctx, client, out, &bo)
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.Unimplemented {
			p.log.Info("health: backend does not implement Watch; polling Check instead",
				"grpcService", p.grpcService, "interval", p.opts.PollInterval)
			p.poll(ctx, client, out)
			return
		}
		p.log.Debug("health: Watch stream ended", "grpcService", p.grpcService, "error", err)
		if !send(ctx, out, observation{broken, fmt.Sprintf("Watch: %v", err)}) || !sleep(ctx, bo.next()) {
			return
		}
	}
}

// watchOnce runs one Watch stream until it fails; it never returns nil.
func (p *probe) watchOnce(ctx context.Context, client healthpb.HealthClient, out chan<- observation, bo *retryBackoff) error {
	release, err := p.dials.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	// The slot is for establishing a connection; a backend that never
	// answers must not hold it past the point where it is judged anyway.
	defer time.AfterFunc(p.opts.ResponseTimeout, release).Stop()
	if !send(ctx, out, observation{attempting, "connecting"}) {
		return ctx.Err()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: p.grpcService})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		release()
		if err != nil {
			return err
		}
		bo.reset()
		if !send(ctx, out, answer(resp.GetStatus())) {
			return ctx.Err()
		}
	}
}

// poll calls Check every PollInterval. A failed Check is final for that
// round (unlike a broken stream, nothing reconnects in between), so the
// endpoint is Unhealthy at once.
func (p *probe) poll(ctx context.Context, client healthpb.HealthClient, out chan<- observation) {
	ticker := time.NewTicker(p.opts.PollInterval)
	defer ticker.Stop()
	for {
		release, err := p.dials.acquire(ctx)
		if err != nil {
			return
		}
		checkCtx, cancel := context.WithTimeout(ctx, p.opts.ResponseTimeout)
		resp, err := client.Check(checkCtx, &healthpb.HealthCheckRequest{Service: p.grpcService})
		cancel()
		release()
		o := answer(resp.GetStatus())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if status.Code(err) == codes.DeadlineExceeded {
				err = fmt.Errorf("no answer within %v: %w", p.opts.ResponseTimeout, err)
			}
			o = observation{failing, fmt.Sprintf("Check: %v", err)}
		}
		if !send(ctx, out, o) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func answer(s healthpb.HealthCheckResponse_ServingStatus) observation {
	if s == healthpb.HealthCheckResponse_SERVING {
		return observation{serving, s.String()}
	}
	return observation{failing, s.String()}
}

func send(ctx context.Context, out chan<- observation, o observation) bool {
	select {
	case out <- o:
		return true
	case <-ctx.Done():
		return false
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
