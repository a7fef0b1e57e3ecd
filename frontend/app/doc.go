// Package app is the kxds demo frontend as an http.Handler: GET /<service>
// makes N SayHello RPCs to that echo service over one long-lived gRPC channel
// and shows which pods answered, as text, JSON or an HTML bar chart. It is how
// a human (or an end-to-end test) sees the control plane's load balancing.
//
// The package does not register the xds resolver; binaries import
// google.golang.org/grpc/xds for that, and tests can inject their own with
// Config.DialOptions and grpc.WithResolvers.
package app
