package app

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// httpStatus maps the gRPC code of a failed fan-out to the answer of this
// gateway: 503 when no backend could be reached, 504 when one did not answer
// in time, 502 for anything a backend answered with.
func httpStatus(code codes.Code) int {
	switch code {
	case codes.OK:
		return http.StatusOK
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}
