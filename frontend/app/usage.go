package app

import (
	"fmt"
	"io"
)

func renderUsage(w io.Writer, cfg Config) error {
	_, err := fmt.Fprintf(w, `kxds frontend: calls an echo service and shows which pods answered.

GET /<service>[?n=N][&format=text|json|html]
    Makes N SayHello RPCs (default %d, at most %d) to the gRPC target %q
    with <service> filled in, over one channel per service, each RPC
    with a %v deadline.
    <service> is a DNS name such as be1-srv, be1-srv.default or
    be1-srv.default:50051.
    Answers one line per RPC; browsers get a bar chart of replies per pod;
    format=json gives {"service", "rpcs", "counts": {pod: n}, "errors"}.
    On a failed RPC it stops and answers 503 (unavailable), 504 (deadline
    exceeded) or 502 (other), still listing the replies it got.

GET /healthz
    Answers "ok" while the frontend runs.
`, cfg.DefaultRPCs, MaxRPCs, cfg.TargetTemplate, cfg.RPCTimeout)
	return err
}
