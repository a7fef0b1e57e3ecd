// Package server is the echo backend that kxds routes traffic to: an
// EchoServer that says which host answered, plus the grpc.health.v1 service
// the control plane and proxyless clients use to decide whether to send it
// traffic.
//
// It is a library rather than only a binary so that end-to-end tests can run
// many backends in one process and flip their health or shut them down at
// will:
//
//	lis, err := net.Listen("tcp", "127.0.0.1:0")
//	b, err := server.NewBackend(server.Options{Hostname: "pod-a"})
//	go b.Serve(lis)
//	defer b.Shutdown(ctx, 0)
package server
