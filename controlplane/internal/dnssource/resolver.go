package dnssource

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// resolver is the system resolver, or one that sends every query to a fixed
// server ("host:port") whatever resolv.conf says.
type resolver struct {
	r      *net.Resolver
	server string // empty for the system resolver
}

func newResolver(server string) resolver {
	if server == "" {
		return resolver{r: &net.Resolver{}}
	}
	return resolver{server: server, r: &net.Resolver{
		PreferGo: true, // only the Go resolver honours Dial
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}}
}

func (r resolver) lookupSRV(ctx context.Context, name string) ([]*net.SRV, error) {
	_, srvs, err := r.r.LookupSRV(ctx, "", "", name)
	return srvs, r.named(err)
}

func (r resolver) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := r.r.LookupNetIP(ctx, "ip", host)
	return addrs, r.named(err)
}

// named puts the server really asked into the error: the Go resolver names
// the resolv.conf server it thought it was dialing.
func (r resolver) named(err error) error {
	var dnsErr *net.DNSError
	if r.server == "" || !errors.As(err, &dnsErr) {
		return err
	}
	e := *dnsErr
	e.Server = r.server
	return &e
}
