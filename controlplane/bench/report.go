package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one line of the table: a value per implementation, and whether the
// kxds/baseline ratio means anything for it.
type row struct {
	name  string
	value func(Result) float64
	unit  string // format verb and unit, e.g. "%.2f ms"
	ratio bool
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func perChange(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return ms(cpu) / float64(n)
}

var rows = []row{
	{"cold start: every client ACKed its whole config", func(r Result) float64 { return ms(r.ColdStart) }, "%.0f ms", true},
	{"cold start: server CPU", func(r Result) float64 { return ms(r.ColdStartCPU) }, "%.0f ms", true},
	{"propagation p50 (one change → all subscribers ACKed)", func(r Result) float64 { return ms(r.Propagation.Quantile(0.5)) }, "%.2f ms", true},
	{"propagation p99", func(r Result) float64 { return ms(r.Propagation.Quantile(0.99)) }, "%.2f ms", true},
	{"propagation max", func(r Result) float64 { return ms(r.Propagation.Max()) }, "%.2f ms", true},
	{"changes timed", func(r Result) float64 { return float64(len(r.Propagation)) }, "%.0f", false},
	{"server CPU per change", func(r Result) float64 { return ms(r.CPUPerChange) }, "%.3f ms", true},
	{"responses pushed per change", func(r Result) float64 { return r.PushesPerChange }, "%.1f", true},
	{"churn: changes sent", func(r Result) float64 { return float64(r.ChurnSent) }, "%.0f", false},
	{"churn: achieved rate", func(r Result) float64 { return r.ChurnRate }, "%.1f /s", true},
	{"churn: ticks skipped (server backlogged)", func(r Result) float64 { return float64(r.ChurnSkipped) }, "%.0f", false},
	{"churn: propagation p50", func(r Result) float64 { return ms(r.ChurnLatency.Quantile(0.5)) }, "%.2f ms", true},
	{"churn: propagation p99", func(r Result) float64 { return ms(r.ChurnLatency.Quantile(0.99)) }, "%.2f ms", true},
	{"churn: server CPU per change", func(r Result) float64 { return perChange(r.ChurnCPU, r.ChurnSent) }, "%.3f ms", true},
	{"churn: lost updates ((client, service) ≠ model)", func(r Result) float64 { return float64(r.Lost) }, "%.0f", false},
	{"server RSS per client", func(r Result) float64 { return r.RSSPerClientKB }, "%.1f KB", true},
	{"server Go heap per client", func(r Result) float64 { return r.HeapPerClientKB }, "%.1f KB", true},
	{"server goroutine stacks per client", func(r Result) float64 { return r.StackPerClientKB }, "%.1f KB", true},
	{"server goroutines per client", func(r Result) float64 { return r.GoroutinesPerClient }, "%.1f", false},
	{"server RSS per service", func(r Result) float64 { return r.RSSPerServiceKB }, "%.2f KB", true},
	{"server Go heap per service", func(r Result) float64 { return r.HeapPerServiceKB }, "%.2f KB", true},
	{"NACKs", func(r Result) float64 { return float64(r.NACKs) }, "%.0f", false},
}

// WriteTable prints a Markdown table: one column per implementation, and
// kxds/baseline when both ran.
func WriteTable(w io.Writer, title string, results []Result) {
	var kx, base *Result
	head := []string{"metric"}
	for i := range results {
		head = append(head, results[i].Impl)
		switch results[i].Impl {
		case "kxds":
			kx = &results[i]
		case "baseline":
			base = &results[i]
		}
	}
	withRatio := kx != nil && base != nil
	if withRatio {
		head = append(head, "kxds/baseline")
	}
	fmt.Fprintf(w, "\n%s\n\n| %s |\n|%s\n", title, strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, rw := range rows {
		cells := []string{rw.name}
		for _, r := range results {
			cells = append(cells, fmt.Sprintf(rw.unit, rw.value(r)))
		}
		if withRatio {
			cells = append(cells, ratio(rw, *kx, *base))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	cells := []string{"grpc-go xDS channels (sanity)"}
	for _, r := range results {
		cells = append(cells, r.Sanity)
	}
	if withRatio {
		cells = append(cells, "")
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	for _, r := range results {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "\nERROR %s: %s\n", r.Impl, e)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\nnote %s: %s\n", r.Impl, n)
		}
	}
}

func ratio(rw row, kx, base Result) string {
	a, b := rw.value(kx), rw.value(base)
	if !rw.ratio || b == 0 {
		return ""
	}
	r := a / b
	switch {
	case r < 0.01:
		return fmt.Sprintf("%.4f", r)
	case r < 10:
		return fmt.Sprintf("%.3f", r)
	default:
		return fmt.Sprintf("%.0f", r)
	}
}
