// Package configwatch re-reads svc_config.json whenever it changes, so edits
// apply live. It watches the file's directory, not the file: editors save by
// renaming, and Kubernetes updates a mounted ConfigMap by swapping a symlink.
package configwatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kxds/kxds/controlplane/internal/config"
)

// debounce merges the bursts of events one save produces.
const debounce = 50 * time.Millisecond

// Watcher reports each new valid version of the file; an invalid version is
// reported as an error and the last good one stays in force.
type Watcher struct {
	Path string
	Mode config.Mode
	// Apply receives each valid version that differs from the previous one.
	Apply func(*config.File)
	// Rejected is told about each invalid version (for the log and metrics).
	Rejected func(error)
	// Loaded is told about each load attempt's result, for metrics.
	Loaded func(error)
	Log    *slog.Logger
}

// Run watches until ctx ends. initial is the content already applied.
func (w *Watcher) Run(ctx context.Context, initial []byte) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.Path, err)
	}
	defer fw.Close()
	if err := fw.Add(filepath.Dir(w.Path)); err != nil {
		return fmt.Errorf("watch %s: %w", w.Path, err)
	}
	last := initial
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-fw.Errors:
			w.Log.Warn("config watch error", "path", w.Path, "err", err)
		case <-fw.Events:
			timer.Reset(debounce)
		case <-timer.C:
			data, err := os.ReadFile(w.Path)
			if err != nil {
				w.reject(fmt.Errorf("%s: %w", w.Path, err))
				continue
			}
			if bytes.Equal(data, last) {
				continue
			}
			f, err := config.Parse(w.Path, data, w.Mode)
			if err != nil {
				w.reject(err)
				last = data
				continue
			}
			last = data
			w.Loaded(nil)
			w.Log.Info("config reloaded", "path", w.Path, "services", len(f.Services))
			w.Apply(f)
		}
	}
}

func (w *Watcher) reject(err error) {
	w.Loaded(err)
	w.Log.Error("config change rejected; still serving the last good config", "err", err)
	if w.Rejected != nil {
		w.Rejected(err)
	}
}
