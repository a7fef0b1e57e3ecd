// Package channelpool keeps one gRPC channel per service name. A channel is
// expensive (its own resolver, xDS watches and connections) and load balancing
// only spreads RPCs across pods within a channel, so callers must reuse them
// rather than dial per request.
package channelpool

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ServicePlaceholder is replaced by the service name in a target template.
const ServicePlaceholder = "%s"

// ErrClosed is returned by Get after Close.
var ErrClosed = errors.New("channel pool is closed")

// Pool creates channels lazily, one per service, and closes them all on Close.
// It is safe for concurrent use.
type Pool struct {
	template string
	opts     []grpc.DialOption

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

// New returns a Pool whose channel for service s targets template with %s
// replaced by s, for example "xds:///%s". Channels use insecure credentials
// unless opts say otherwise; opts are applied after that default.
func New(template string, opts ...grpc.DialOption) (*Pool, error) {
	if err := ValidateTemplate(template); err != nil {
		return nil, err
	}
	return &Pool{
		template: template,
		opts:     append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...),
		conns:    make(map[string]*grpc.ClientConn),
	}, nil
}

// ValidateTemplate checks that template has exactly one %s and no other verb,
// since anything else would build a different target than the one asked for.
func ValidateTemplate(template string) error {
	if strings.Count(template, ServicePlaceholder) != 1 || strings.Count(template, "%") != 1 {
		return fmt.Errorf("target template %q must contain exactly one %s (the service name) and no other %%", template, ServicePlaceholder)
	}
	return nil
}

// Target is the gRPC target used for service.
func (p *Pool) Target(service string) string {
	return strings.Replace(p.template, ServicePlaceholder, service, 1)
}

// Get returns the channel for service, creating it on first use. Creating a
// channel does not connect; connection errors surface on the first RPC.
func (p *Pool) Get(service string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if conn, ok := p.conns[service]; ok {
		return conn, nil
	}
	target := p.Target(service)
	conn, err := grpc.NewClient(target, p.opts...)
	if err != nil {
		return nil, fmt.Errorf("creating channel to %q for service %q: %w", target, service, err)
	}
	p.conns[service] = conn
	return conn, nil
}

// Len is the number of channels created so far.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every channel; later Get calls fail with ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for service, conn := range p.conns {
		if err := conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing channel for service %q: %w", service, err))
		}
	}
	clear(p.conns)
	return errors.Join(errs...)
}
