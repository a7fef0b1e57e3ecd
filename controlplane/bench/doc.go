// Package bench measures kxds' xDS server against a naive go-control-plane
// design (one full SnapshotCache snapshot per node, rebuilt on every change),
// driven by the same fleet of lightweight xDS clients that behave like grpc-go,
// with the model and its changes delivered through a discovery source: a
// static svc_config.json, EndpointSlices in a real kube-apiserver, or the
// server's source.Sink directly (feeder.go).
//
// The server under test runs in a child process (this binary re-executed, see
// child.go), so its CPU time and memory are measured apart from the clients'.
// cmd/kxds-bench prints the comparison; smoke_test.go runs a tiny
// configuration as a correctness test.
package bench
