package health

import (
	"context"
	"fmt"
	"time"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// observationKind is what one step of a probe learned about its endpoint.
type observationKind int

const (
	// attempting: a health RPC is about to start (a dial slot was granted).
	attempting observationKind = iota
	// serving: the backend answered SERVING.
	serving
	// failing: the backend answered anything but SERVING, or a unary Check
	// failed. Unhealthy at once: the answer is authoritative.
	failing
	// broken: a Watch stream ended or could not start. Unhealthy only if no
	// SERVING answer follows within ResponseTimeout, because a stream also
	// ends when a server recycles its connection and reconnecting is quick.
	broken
)

type observation struct {
	kind   observationKind
	detail string // shown in Snapshot
}

// hysteresis turns a probe's observations into the health kxds publishes:
//
//   - Unknown until the first answer (clients use Unknown endpoints);
//     SERVING from Unknown is Healthy at once;
//   - failing → Unhealthy at once;
//   - no SERVING within ResponseTimeout of the first attempt or of a broken
//     stream → Unhealthy;
//   - Unhealthy → Healthy only after SERVING held for RecoverAfter.
type hysteresis struct {
	responseTimeout time.Duration
	recoverAfter    time.Duration
	// report is called from run's goroutine, in order, whenever the health or
	// the detail changes.
	report func(model.HealthStatus, string)
}

func (h *hysteresis) run(ctx context.Context, in <-chan observation) {
	health, detail := model.HealthUnknown, "waiting for the first check"
	publish := func(hs model.HealthStatus, d string) {
		if hs != health || d != detail {
			health, detail = hs, d
			h.report(health, detail)
		}
	}

	// Both timers start stopped; a stopped timer's channel never delivers
	// (Go ≥ 1.23 timer semantics), so they can sit in the select unarmed.
	deadline := newStoppedTimer()
	defer deadline.Stop()
	recovery := newStoppedTimer()
	defer recovery.Stop()
	var deadlineArmed, isServing, recovering bool
	armDeadline := func() {
		if !deadlineArmed {
			deadline.Reset(h.responseTimeout)
			deadlineArmed = true
		}
	}
	disarmDeadline := func() { deadline.Stop(); deadlineArmed = false }

	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			deadlineArmed = false
			publish(model.HealthUnhealthy, fmt.Sprintf("no SERVING answer within %v: %s", h.responseTimeout, detail))
		case <-recovery.C:
			recovering = false
			publish(model.HealthHealthy, "SERVING")
		case o := <-in:
			switch o.kind {
			case attempting:
				if !isServing {
					armDeadline()
				}
				if health != model.HealthUnhealthy {
					publish(health, o.detail)
				}
			case serving:
				isServing = true
				disarmDeadline()
				switch health {
				case model.HealthUnknown:
					publish(model.HealthHealthy, o.detail)
				case model.HealthUnhealthy:
					// Armed once per SERVING spell: a poll's repeated
					// SERVING must not push the recovery back.
					if !recovering {
						recovering = true
						recovery.Reset(h.recoverAfter)
						publish(model.HealthUnhealthy, fmt.Sprintf("SERVING, healthy if it holds for %v", h.recoverAfter))
					}
				}
			case failing:
				isServing, recovering = false, false
				disarmDeadline()
				recovery.Stop()
				publish(model.HealthUnhealthy, o.detail)
			case broken:
				isServing, recovering = false, false
				recovery.Stop()
				armDeadline()
				publish(health, o.detail)
			}
		}
	}
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
