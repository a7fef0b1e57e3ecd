package main

import (
	"net"
	"os/exec"
	"testing"
)

// TestDemoWalkthrough runs the README's demo command in --check mode: real
// kxds, echo and frontend processes on loopback, both services answering from
// every backend, and be1-srv scaled live to 10 and back to 3.
func TestDemoWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the demo builds its programs with the go command, which is not on PATH (hermetic Bazel sandbox)")
	}
	args := []string{"--check", "--dir", t.TempDir()}
	for _, flag := range []string{"--frontend-addr", "--xds-addr", "--admin-addr", "--control-addr"} {
		args = append(args, flag, freeAddr(t))
	}
	if err := runDemo(args); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
