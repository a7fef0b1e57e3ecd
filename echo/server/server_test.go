package server

import (
	"io"
	"testing"

	"github.com/kxds/kxds/protos/echo"
)

func TestReplyFormat(t *testing.T) {
	// The frontend's name ends in a space, hence the double space: clients
	// and dashboards match this exact line.
	const want = "Hello unary RPC msg  from hostname pod-a"
	if got := Reply("unary RPC msg ", "pod-a"); got != want {
		t.Errorf("Reply = %q, want %q", got, want)
	}
}

func TestSayHelloAnswersWithHostname(t *testing.T) {
	b, conn := startBackend(t, Options{Hostname: "pod-a"})
	reply, err := echo.NewEchoServerClient(conn).SayHello(testContext(t), &echo.EchoRequest{Name: "unary RPC msg "})
	if err != nil {
		t.Fatalf("SayHello: %v", err)
	}
	if want := "Hello unary RPC msg  from hostname pod-a"; reply.GetMessage() != want {
		t.Errorf("reply = %q, want %q", reply.GetMessage(), want)
	}
	if got := b.Served(); got != 1 {
		t.Errorf("Served() = %d after one RPC, want 1", got)
	}
}

func TestSayHelloStreamRepliesStreamRepliesTimes(t *testing.T) {
	b, conn := startBackend(t, Options{Hostname: "pod-b"})
	stream, err := echo.NewEchoServerClient(conn).SayHelloStream(testContext(t), &echo.EchoRequest{Name: "x"})
	if err != nil {
		t.Fatalf("SayHelloStream: %v", err)
	}
	var got []string
	for {
		reply, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv after %d replies: %v", len(got), err)
		}
		got = append(got, reply.GetMessage())
	}
	if len(got) != StreamReplies {
		t.Fatalf("got %d replies %q, want %d", len(got), got, StreamReplies)
	}
	for _, msg := range got {
		if msg != "Hello x from hostname pod-b" {
			t.Errorf("stream reply = %q", msg)
		}
	}
	if got := b.Served(); got != 1 {
		t.Errorf("Served() = %d after one streaming RPC, want 1", got)
	}
}
