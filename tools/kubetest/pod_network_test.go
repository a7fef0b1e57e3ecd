package kubetest

import (
	"io"
	"net"
	"testing"
)

// TestPodNetworkIsReachable checks the network namespace setup that tests
// dialling fake pods rely on: a server bound to a pod IP answers.
func TestPodNetworkIsReachable(t *testing.T) {
	RequirePodNetwork(t)
	l, err := net.Listen("tcp", "10.244.3.7:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("pod"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dialing a server on a pod IP: %v", err)
	}
	defer c.Close()
	if got, err := io.ReadAll(c); err != nil || string(got) != "pod" {
		t.Fatalf("read %q, %v; want \"pod\"", got, err)
	}
}
