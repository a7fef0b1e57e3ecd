package app

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/protos/echo"
)

// RequestName is the name sent in every SayHello. Its trailing space is
// historical: replies read "Hello unary RPC msg  from hostname <pod>" (two
// spaces) and existing dashboards and tests match that line.
const RequestName = "unary RPC msg "

// fanout makes n SayHello RPCs one after another, so that the spread across
// pods shows the channel's load-balancing policy. It stops at the first
// failure: the caller wants a quick answer, and the remaining RPCs would most
// likely fail the same way, each after a full timeout. It returns the code of
// that failure, or codes.OK.
func fanout(ctx context.Context, conn grpc.ClientConnInterface, n int, timeout time.Duration, res *Result) codes.Code {
	client := echo.NewEchoServerClient(conn)
	for range n {
		rpcCtx, cancel := context.WithTimeout(ctx, timeout)
		reply, err := client.SayHello(rpcCtx, &echo.EchoRequest{Name: RequestName})
		cancel()
		if err != nil {
			st := status.Convert(err)
			res.Errors = append(res.Errors, err.Error())
			return st.Code()
		}
		res.addReply(reply.GetMessage())
	}
	return codes.OK
}
