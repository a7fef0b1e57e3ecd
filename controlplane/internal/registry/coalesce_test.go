package registry

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/kxds/kxds/controlplane/internal/translate"
	"github.com/kxds/kxds/controlplane/internal/xdscache"
)

// duringPush runs f once, once set, from inside cache.Apply (the cache tells
// its observer about a push while publishing), i.e. while a publication is in
// progress.
type duringPush struct {
	once sync.Once
	f    func()
}

func (d *duringPush) Pushed(string, int) {
	if d.f != nil {
		d.once.Do(d.f)
	}
}
func (d *duringPush) UnknownTarget(string) {}

// Changes that arrive while a publication is in progress do not wait for it:
// they are published together right after it, under one new version.
func TestChangesDuringAPublicationAreCoalesced(t *testing.T) {
	hook := &duringPush{}
	c := xdscache.New(hook)
	r := New(c, translate.Options{}, &counts{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Set(svc("default", "a", "10.0.0.1:80"))

	// A client watching a's endpoints, up to date, so the next change to a is
	// pushed from inside Apply.
	name := "kxds/default/a"
	sub := stream.NewSotwSubscription([]string{name}, false)
	out := make(chan cache.Response, 1)
	if _, err := c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: []string{name}}, sub, out); err != nil {
		t.Fatal(err)
	}
	first := <-out
	sub.SetReturnedResources(first.GetReturnedResources())
	if _, err := c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: []string{name}, VersionInfo: first.GetResponseVersion()}, sub, out); err != nil {
		t.Fatal(err)
	}

	before, _ := strconv.Atoi(c.Version())
	hook.f = func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 5 {
				r.Set(svc("default", fmt.Sprintf("b%d", i), "10.0.1.1:80"))
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Set waited for the publication in progress")
		}
	}
	r.Set(svc("default", "a", "10.0.0.2:80"))

	if got := len(c.Resources(resource.ClusterType)); got != 6 {
		t.Errorf("%d clusters in the cache, want a and b0..b4", got)
	}
	if after, _ := strconv.Atoi(c.Version()); after != before+2 {
		t.Errorf("version %d → %d: want one version for a and one for the burst of 5", before, after)
	}
}
