package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/kxds/kxds/protos/echo"
)

// StreamReplies is how many replies SayHelloStream sends. More than one, so
// that a stream can be observed in flight (for example across a shutdown), and
// small, so that clients finish quickly.
const StreamReplies = 3

// Server implements echo.EchoServerServer. Every reply names the host that
// produced it, which is how clients see where load balancing sent them.
type Server struct {
	echo.UnimplementedEchoServerServer

	hostname       string
	streamInterval time.Duration
	logger         *slog.Logger
	served         atomic.Int64
}

// NewServer returns a Server answering as hostname. streamInterval is the
// pause between the replies of one SayHelloStream call; zero sends them back
// to back. A nil logger means slog.Default().
func NewServer(hostname string, streamInterval time.Duration, logger *slog.Logger) (*Server, error) {
	if strings.TrimSpace(hostname) == "" {
		return nil, errors.New("echo server: hostname must not be empty")
	}
	if streamInterval < 0 {
		return nil, fmt.Errorf("echo server: stream interval must not be negative, got %v", streamInterval)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Server{hostname: hostname, streamInterval: streamInterval, logger: logger}, nil
}

// Reply is the exact text a backend on hostname answers to name. Clients parse
// it back (the pod is what follows " from hostname "), so it must not change.
func Reply(name, hostname string) string {
	return fmt.Sprintf("Hello %s from hostname %s", name, hostname)
}

// Hostname is the name this server puts in its replies.
func (s *Server) Hostname() string { return s.hostname }

// Served counts the echo RPCs (unary and streaming, not health checks) this
// server has accepted. It is incremented before the first reply is sent, so a
// client that has a reply in hand always sees its RPC counted.
func (s *Server) Served() int64 { return s.served.Load() }

// SayHello answers with Reply(name, hostname).
func (s *Server) SayHello(_ context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	s.served.Add(1)
	s.logger.Debug("echo RPC", "method", "SayHello", "name", req.GetName())
	return &echo.EchoReply{Message: Reply(req.GetName(), s.hostname)}, nil
}

// SayHelloStream sends Reply(name, hostname) StreamReplies times.
func (s *Server) SayHelloStream(req *echo.EchoRequest, stream grpc.ServerStreamingServer[echo.EchoReply]) error {
	s.served.Add(1)
	s.logger.Debug("echo RPC", "method", "SayHelloStream", "name", req.GetName())
	reply := &echo.EchoReply{Message: Reply(req.GetName(), s.hostname)}
	for i := range StreamReplies {
		if i > 0 && s.streamInterval > 0 {
			select {
			case <-time.After(s.streamInterval):
			case <-stream.Context().Done():
				return status.FromContextError(stream.Context().Err()).Err()
			}
		}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
	return nil
}
