package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// profiler writes the child's pprof files into a directory, named after the
// implementation, for `go tool pprof`: the CPU profile covers the changes
// (propagation and churn), the heap profile is taken with every client held.
type profiler struct {
	dir, impl string
	cpu       *os.File
}

func (p *profiler) command(what string) error {
	if p.dir == "" {
		return nil
	}
	path := func(kind string) string { return filepath.Join(p.dir, p.impl+"."+kind+".pprof") }
	switch what {
	case "cpu-start":
		f, err := os.Create(path("cpu"))
		if err != nil {
			return err
		}
		p.cpu = f
		return pprof.StartCPUProfile(f)
	case "cpu-stop":
		if p.cpu == nil {
			return nil
		}
		pprof.StopCPUProfile()
		return p.cpu.Close()
	case "heap":
		f, err := os.Create(path("heap"))
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		// The goroutines holding the clients, grouped by stack.
		g, err := os.Create(filepath.Join(p.dir, p.impl+".goroutine.txt"))
		if err != nil {
			return err
		}
		defer g.Close()
		return pprof.Lookup("goroutine").WriteTo(g, 1)
	}
	return fmt.Errorf("unknown profile command %q", what)
}
