package kubesource

import (
	"strings"
	"testing"
)

func TestServicePort(t *testing.T) {
	two := newService("ns", "svc", false, nil, svcPort("grpc", 50051), svcPort("http", 80))
	if p, err := servicePort(two, "http"); err != nil || p.Port != 80 {
		t.Errorf("servicePort(http) = %v, %v; want 80", p.Port, err)
	}
	if _, err := servicePort(two, ""); err == nil || !strings.Contains(err.Error(), "2 ports") {
		t.Errorf("servicePort(\"\") with two ports: err = %v; want one naming the 2 ports", err)
	}
	if _, err := servicePort(two, "nope"); err == nil || !strings.Contains(err.Error(), `no port named "nope"`) {
		t.Errorf("servicePort(nope): err = %v", err)
	}
	one := newService("ns", "svc", false, nil, svcPort("", 8080))
	if p, err := servicePort(one, ""); err != nil || p.Port != 8080 {
		t.Errorf("servicePort(\"\") with one port = %v, %v; want 8080", p.Port, err)
	}
}
