package channelpool

import (
	"errors"
	"testing"

	"google.golang.org/grpc/connectivity"
)

func TestValidateTemplate(t *testing.T) {
	for _, ok := range []string{"xds:///%s", "passthrough:///%s", "dns:///%s.svc.cluster.local:50051"} {
		if err := ValidateTemplate(ok); err != nil {
			t.Errorf("ValidateTemplate(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "xds:///", "xds:///%s/%s", "xds:///%d", "xds:///%s%%", "%v"} {
		if err := ValidateTemplate(bad); err == nil {
			t.Errorf("ValidateTemplate(%q) succeeded, want error", bad)
		}
	}
}

func TestGetReusesChannelPerService(t *testing.T) {
	p, err := New("passthrough:///%s")
	if err != nil {
		t.Fatal(err)
	}
	a1, err := p.Get("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := p.Get("127.0.0.1:1")
	b, _ := p.Get("127.0.0.1:2")
	if a1 != a2 {
		t.Error("second Get for the same service made a new channel")
	}
	if a1 == b {
		t.Error("different services share a channel")
	}
	if got := a1.Target(); got != "passthrough:///127.0.0.1:1" {
		t.Errorf("channel target = %q", got)
	}
	if p.Len() != 2 {
		t.Errorf("Len() = %d, want 2", p.Len())
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if s := a1.GetState(); s != connectivity.Shutdown {
		t.Errorf("channel state after Close = %v, want SHUTDOWN", s)
	}
	if _, err := p.Get("127.0.0.1:1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

func TestNewRejectsBadTemplate(t *testing.T) {
	if _, err := New("xds:///"); err == nil {
		t.Error("New accepted a template without a service placeholder")
	}
}
