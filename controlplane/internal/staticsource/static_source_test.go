package staticsource

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/model"
)

// events records what the source reports, in order.
type events chan string

func (e events) Set(s model.Service)       { e <- "set " + s.Key.Name }
func (e events) Delete(k model.ServiceKey) { e <- "delete " + k.Name }
func (e events) Synced()                   { e <- "synced" }

func parse(t *testing.T, doc string) *config.File {
	t.Helper()
	f, err := config.Parse("c.json", []byte(doc), config.ModeStatic)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (e events) take(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case ev := <-e:
			got = append(got, ev)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v, then nothing", got)
		}
	}
	slices.Sort(got)
	return got
}

// A reload reports only what changed: services whose entry is the same are
// not reported again (a config of thousands of services changes one at a time).
func TestReloadReportsOnlyChanges(t *testing.T) {
	s := New(parse(t, `{"services":[
		{"serviceName":"same","endpoints":["127.0.0.1:1"]},
		{"serviceName":"edited","endpoints":["127.0.0.1:2"]},
		{"serviceName":"removed","endpoints":["127.0.0.1:3"]}]}`))
	sink := make(events, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, sink)
	if got, want := sink.take(t, 4), []string{"set edited", "set removed", "set same", "synced"}; !slices.Equal(got, want) {
		t.Fatalf("initial: %v, want %v", got, want)
	}
	s.Update(parse(t, `{"services":[
		{"serviceName":"same","endpoints":["127.0.0.1:1"],"healthCheck":true},
		{"serviceName":"edited","endpoints":["127.0.0.1:2","127.0.0.1:4"]},
		{"serviceName":"added","endpoints":["127.0.0.1:5"]}]}`))
	if got, want := sink.take(t, 3), []string{"delete removed", "set added", "set edited"}; !slices.Equal(got, want) {
		t.Fatalf("reload: %v, want %v", got, want)
	}
	select {
	case ev := <-sink:
		t.Fatalf("unexpected %q: the unchanged service was reported again", ev)
	case <-time.After(100 * time.Millisecond):
	}
}
