package kubesource

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// Reason classifies a Problem, e.g. as a metric label.
type Reason string

const (
	// ReasonInvalidAnnotation: an xds.kxds.io/ annotation has an invalid value;
	// the Service is not published.
	ReasonInvalidAnnotation Reason = "invalid_annotation"
	// ReasonPortNotFound: the Service has no port of the wanted name (or
	// several ports and no name was given); the Service is not published.
	ReasonPortNotFound Reason = "port_not_found"
	// ReasonConfigConflict: a Service in Options.Services also has opt-in
	// annotations that differ (or are invalid); the config entry is used.
	ReasonConfigConflict Reason = "config_annotation_conflict"
	// ReasonUnknownAnnotation: an annotation under xds.kxds.io/ that this
	// version does not know (a typo?); it is ignored, the Service is published.
	ReasonUnknownAnnotation Reason = "unknown_annotation"
)

// Withdraws reports whether a problem of this kind keeps the Service from
// being published.
func (r Reason) Withdraws() bool { return r == ReasonInvalidAnnotation || r == ReasonPortNotFound }

// Problem is something wrong with how a Service is set up for kxds. It is
// logged, passed to Options.OnProblem, and reported again only when it changes.
type Problem struct {
	Service model.ServiceKey
	Reason  Reason
	Err     error
}

func (p Problem) Error() string { return fmt.Sprintf("service %s: %s: %v", p.Service, p.Reason, p.Err) }

// problemTracker remembers each service's current problems so that a Service
// recomputed on every EndpointSlice event is logged and counted once per
// problem, not once per event.
type problemTracker struct {
	log     *slog.Logger
	notify  func(Problem)
	current map[model.ServiceKey]map[Reason]string
}

func newProblemTracker(log *slog.Logger, notify func(Problem)) *problemTracker {
	return &problemTracker{log: log, notify: notify, current: map[model.ServiceKey]map[Reason]string{}}
}

// update replaces key's problems: new or changed ones are logged and notified,
// vanished ones are logged as resolved.
func (t *problemTracker) update(key model.ServiceKey, problems []Problem) {
	before := t.current[key]
	now := make(map[Reason]string, len(problems))
	for _, p := range problems {
		msg := p.Err.Error()
		now[p.Reason] = msg
		if before[p.Reason] == msg {
			continue
		}
		level, effect := slog.LevelWarn, "the service is published anyway"
		if p.Reason.Withdraws() {
			level, effect = slog.LevelError, "the service is not published"
		}
		t.log.Log(context.Background(), level, "Kubernetes Service misconfigured for kxds: "+effect,
			"service", key.String(), "reason", string(p.Reason), "error", msg)
		if t.notify != nil {
			t.notify(p)
		}
	}
	for reason := range before {
		if _, still := now[reason]; !still {
			t.log.Info("Kubernetes Service problem resolved", "service", key.String(), "reason", string(reason))
		}
	}
	if len(now) == 0 {
		delete(t.current, key)
	} else if !maps.Equal(before, now) {
		t.current[key] = now
	}
}
