package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/xds"

	"github.com/kxds/kxds/controlplane/internal/bootstrap"
	"github.com/kxds/kxds/echo/server"
	echopb "github.com/kxds/kxds/protos/echo"
)

// The lightweight clients prove propagation, not that grpc-go accepts what is
// served. So a few real grpc-go xDS channels (their own bootstrap and node ID
// each) dial xds:///sanity, which has real echo backends, and make an RPC.

type sanityBackends struct {
	backends []*server.Backend
	addrs    []string
}

func startSanityBackends(n int) (*sanityBackends, error) {
	s := &sanityBackends{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range n {
		lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 201+i))
		if err != nil {
			s.stop()
			return nil, err
		}
		b, err := server.NewBackend(server.Options{Hostname: fmt.Sprintf("sanity-%d", i), Logger: quiet})
		if err != nil {
			lis.Close()
			s.stop()
			return nil, err
		}
		go b.Serve(lis)
		s.backends = append(s.backends, b)
		s.addrs = append(s.addrs, lis.Addr().String())
	}
	return s, nil
}

func (s *sanityBackends) stop() {
	for _, b := range s.backends {
		b.Stop()
	}
}

// sanityCheck returns nil once every channel got a reply through xDS.
func sanityCheck(xdsAddr string, channels int) error {
	for i := range channels {
		if err := sanityRPC(xdsAddr, fmt.Sprintf("sanity-grpc-go-%d", i)); err != nil {
			return err
		}
	}
	return nil
}

func sanityRPC(xdsAddr, nodeID string) error {
	b, err := bootstrap.JSON(bootstrap.Options{Server: xdsAddr, NodeID: nodeID})
	if err != nil {
		return err
	}
	r, err := xds.NewXDSResolverWithConfigForTesting(b)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient("xds:///"+sanityTarget, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(r))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := echopb.NewEchoServerClient(conn).SayHello(ctx, &echopb.EchoRequest{Name: "kxds-bench"}, grpc.WaitForReady(true))
	if err != nil {
		return fmt.Errorf("grpc-go xDS channel %s: %w", nodeID, err)
	}
	if !strings.Contains(resp.GetMessage(), "from hostname sanity-") {
		return fmt.Errorf("grpc-go xDS channel %s: unexpected reply %q", nodeID, resp.GetMessage())
	}
	return nil
}
