package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ScalePoint is one number of services and what each implementation did,
// with the same clients dialing the same services each time.
type ScalePoint struct {
	Services int
	Results  []Result
}

// WriteScaleTable prints the cost of one endpoint change against the number
// of services: flat for a design whose work follows the change.
func WriteScaleTable(w io.Writer, title string, points []ScalePoint) {
	if len(points) == 0 {
		return
	}
	head := []string{"services"}
	for _, r := range points[0].Results {
		head = append(head, r.Impl+" CPU/change", r.Impl+" p50", r.Impl+" p99")
	}
	withRatio := len(points[0].Results) == 2 && points[0].Results[0].Impl == "kxds" && points[0].Results[1].Impl == "baseline"
	if withRatio {
		head = append(head, "kxds/baseline CPU")
	}
	fmt.Fprintf(w, "\n%s\n\n| %s |\n|%s\n", title, strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, p := range points {
		cells := []string{strconv.Itoa(p.Services)}
		for _, r := range p.Results {
			cells = append(cells, fmt.Sprintf("%.3f ms", ms(r.CPUPerChange)),
				fmt.Sprintf("%.2f ms", ms(r.Propagation.Quantile(0.5))), fmt.Sprintf("%.2f ms", ms(r.Propagation.Quantile(0.99))))
		}
		if withRatio && len(p.Results) == 2 && p.Results[1].CPUPerChange > 0 {
			cells = append(cells, fmt.Sprintf("%.4f", float64(p.Results[0].CPUPerChange)/float64(p.Results[1].CPUPerChange)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, p := range points {
		for _, r := range p.Results {
			for _, e := range r.Errors {
				fmt.Fprintf(w, "\nERROR %d services, %s: %s\n", p.Services, r.Impl, e)
			}
			for _, n := range r.Notes {
				fmt.Fprintf(w, "\nnote %d services, %s: %s\n", p.Services, r.Impl, n)
			}
		}
	}
}
