package xdscache

import (
	"context"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// response carries shared, already-marshalled resources to one stream.
type response struct {
	req       *cache.Request
	version   string
	resources []*anypb.Any
	returned  map[string]string
}

var _ cache.Response = (*response)(nil)

// GetDiscoveryResponse builds a fresh message: the server writes its nonce into
// it, so it must not be shared between streams (the Any values are).
func (r *response) GetDiscoveryResponse() (*discovery.DiscoveryResponse, error) {
	return &discovery.DiscoveryResponse{
		VersionInfo: r.version,
		Resources:   r.resources,
		TypeUrl:     r.req.GetTypeUrl(),
	}, nil
}

func (r *response) GetRequest() *discovery.DiscoveryRequest { return r.req }
func (r *response) GetVersion() (string, error)             { return r.version, nil }
func (r *response) GetResponseVersion() string              { return r.version }
func (r *response) GetReturnedResources() map[string]string { return r.returned }
func (r *response) GetContext() context.Context             { return context.Background() }
