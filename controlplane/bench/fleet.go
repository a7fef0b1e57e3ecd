package bench

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// fleet is N clients whose ADS streams share a few HTTP/2 connections: many
// streams per connection cost the server the same per-stream state as one
// connection each, without needing N file descriptors on either side.
type fleet struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  []*grpc.ClientConn
}

func targetsOf(clients, perClient, span int) [][]int {
	out := make([][]int, clients)
	for c := range out {
		out[c] = make([]int, perClient)
		for t := range out[c] {
			// Consecutive clients take consecutive services, so every service
			// in [0, span) gets clients·perClient/span subscribers.
			out[c][t] = (c*perClient + t) % span
		}
	}
	return out
}

func startFleet(addr string, streamsPerConn int, tr *tracker) (*fleet, error) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{cancel: cancel}
	n := len(tr.targets)
	for c := 0; c < n; c++ {
		if c%streamsPerConn == 0 {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				f.stop()
				return nil, err
			}
			f.conns = append(f.conns, conn)
		}
		cl := newClient(c, tr.targets[c], tr)
		conn := f.conns[len(f.conns)-1]
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			if err := cl.run(ctx, conn); err != nil {
				tr.fail(err)
			}
		}()
	}
	return f, nil
}

func (f *fleet) stop() {
	f.cancel()
	f.wg.Wait()
	for _, c := range f.conns {
		c.Close()
	}
}
