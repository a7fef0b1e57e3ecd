package health

import (
	"log/slog"
	"time"
)

// Options tune the Checker. A zero or negative field takes its default.
type Options struct {
	// ResponseTimeout is how long an endpoint may go without a SERVING answer,
	// counted from its first check or from the moment its Watch stream broke,
	// before it is marked Unhealthy. It keeps unreachable endpoints out of EDS
	// within one second while letting a recycled connection reconnect without a
	// flap. Default 500ms.
	ResponseTimeout time.Duration
	// RecoverAfter is how long SERVING must hold before an Unhealthy endpoint
	// is Healthy again, so that a backend flapping between states stays out.
	// Default 2s.
	RecoverAfter time.Duration
	// PollInterval spaces Check calls for backends that do not implement
	// Watch. Below one second so that NOT_SERVING still leaves EDS within the
	// same bound as with Watch. Default 500ms.
	PollInterval time.Duration
	// RetryBaseDelay and RetryMaxDelay bound the jittered exponential backoff
	// between Watch stream attempts; the same values configure gRPC's own
	// connection backoff (whose stock maximum of 120s would keep a restarted
	// backend out for minutes). Defaults 100ms and 5s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxConcurrentDials bounds the health RPCs that may be establishing a
	// connection at once (each holds a slot until its first answer, its
	// failure or ResponseTimeout), so that a large rollout does not open
	// thousands of connections in the same instant. Default 32.
	MaxConcurrentDials int
	// Logger receives state changes and check failures. Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Options, in the order of its fields.
const (
	DefaultResponseTimeout    = 500 * time.Millisecond
	DefaultRecoverAfter       = 2 * time.Second
	DefaultPollInterval       = 500 * time.Millisecond
	DefaultRetryBaseDelay     = 100 * time.Millisecond
	DefaultRetryMaxDelay      = 5 * time.Second
	DefaultMaxConcurrentDials = 32
)

func (o Options) withDefaults() Options {
	orDefault := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	orDefault(&o.ResponseTimeout, DefaultResponseTimeout)
	orDefault(&o.RecoverAfter, DefaultRecoverAfter)
	orDefault(&o.PollInterval, DefaultPollInterval)
	orDefault(&o.RetryBaseDelay, DefaultRetryBaseDelay)
	orDefault(&o.RetryMaxDelay, DefaultRetryMaxDelay)
	if o.RetryMaxDelay < o.RetryBaseDelay {
		o.RetryMaxDelay = o.RetryBaseDelay
	}
	if o.MaxConcurrentDials <= 0 {
		o.MaxConcurrentDials = DefaultMaxConcurrentDials
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
