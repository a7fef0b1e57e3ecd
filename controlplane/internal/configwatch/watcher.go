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

// defaultSettle is how long a file that reads invalid may stay so before the
// version is rejected: a save that is not atomic (truncate, then write) is
// read half-written in between, and must not be reported as an error.
const defaultSettle = 50 * time.Millisecond

// Watcher reports each new valid version of the file; an invalid version is
// reported as an error and the last good one stays in force.
//
// A valid version applies as soon as its change event arrives, with no fixed
// delay: atomic saves (rename over the file, a ConfigMap's symlink swap) are
// read complete, and re-reading an unchanged file costs one comparison. Only
// an invalid read waits, for Settle, in case the writer is not done.
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
	// Settle is how long an invalid file may stay invalid before it is
	// rejected; default 50 ms.
	Settle time.Duration
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
	settle := w.Settle
	if settle <= 0 {
		settle = defaultSettle
	}
	last := initial
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// check reads the file; an invalid read is only rejected when final.
	check := func(final bool) {
		data, err := os.ReadFile(w.Path)
		if err == nil && bytes.Equal(data, last) {
			timer.Stop()
			return
		}
		var f *config.File
		if err != nil {
			err = fmt.Errorf("%s: %w", w.Path, err)
		} else {
			f, err = config.Parse(w.Path, data, w.Mode)
		}
		if err != nil {
			if !final {
				timer.Reset(settle)
				return
			}
			w.reject(err)
			last = data
			return
		}
		timer.Stop()
		last = data
		w.Loaded(nil)
		w.Log.Info("config reloaded", "path", w.Path, "services", len(f.Services))
		w.Apply(f)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-fw.Errors:
			w.Log.Warn("config watch error", "path", w.Path, "err", err)
		case <-fw.Events:
			check(false)
		case <-timer.C:
			check(true)
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
