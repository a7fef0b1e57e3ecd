package xdsserver

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc/peer"
)

// ClientTracker records, per ADS stream, who the client is and what it has
// asked for, accepted and rejected: what /debug/clients shows.
type ClientTracker struct {
	server.CallbackFuncs
	log     *slog.Logger
	metrics Metrics

	mu      sync.Mutex
	streams map[int64]*clientState
}

// Metrics receives per-stream events; see internal/metrics.
type Metrics interface {
	StreamOpened()
	StreamClosed()
	Request(typeURL string)
	NACK(typeURL string)
}

type clientState struct {
	NodeID    string                `json:"nodeId"`
	Address   string                `json:"address"`
	Since     time.Time             `json:"connectedSince"`
	UserAgent string                `json:"userAgent,omitempty"`
	Locality  *core.Locality        `json:"locality,omitempty"`
	Types     map[string]*typeState `json:"types"`
}

type typeState struct {
	Subscribed   []string  `json:"subscribed"`
	SentVersion  string    `json:"sentVersion,omitempty"`
	AckedVersion string    `json:"ackedVersion,omitempty"`
	LastNACK     *nackInfo `json:"lastNack,omitempty"`
}

type nackInfo struct {
	Version string    `json:"version"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

// NewClientTracker returns a tracker to pass as the ADS server's callbacks.
func NewClientTracker(metrics Metrics, log *slog.Logger) *ClientTracker {
	t := &ClientTracker{log: log, metrics: metrics, streams: map[int64]*clientState{}}
	t.StreamOpenFunc = t.open
	t.StreamClosedFunc = t.closed
	t.StreamRequestFunc = t.request
	t.StreamResponseFunc = t.response
	return t
}

func (t *ClientTracker) open(ctx context.Context, id int64, _ string) error {
	addr := ""
	if p, ok := peer.FromContext(ctx); ok {
		addr = p.Addr.String()
	}
	t.mu.Lock()
	t.streams[id] = &clientState{Address: addr, Since: time.Now(), Types: map[string]*typeState{}}
	t.mu.Unlock()
	t.metrics.StreamOpened()
	return nil
}

func (t *ClientTracker) closed(id int64, node *core.Node) {
	t.mu.Lock()
	delete(t.streams, id)
	t.mu.Unlock()
	t.metrics.StreamClosed()
	t.log.Debug("xDS stream closed", "stream", id, "node", node.GetId())
}

func (t *ClientTracker) request(id int64, req *discovery.DiscoveryRequest) error {
	t.metrics.Request(req.GetTypeUrl())
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.streams[id]
	if s == nil {
		return nil
	}
	if n := req.GetNode(); n != nil && s.NodeID == "" {
		s.NodeID = n.GetId()
		s.UserAgent = n.GetUserAgentName() + " " + n.GetUserAgentVersion()
		s.Locality = n.GetLocality()
		t.log.Info("xDS client connected", "node", s.NodeID, "address", s.Address, "userAgent", s.UserAgent)
	}
	ts := s.Types[req.GetTypeUrl()]
	if ts == nil {
		ts = &typeState{}
		s.Types[req.GetTypeUrl()] = ts
	}
	// The request's own slice, not a copy: requests are never modified once
	// received, and the stream holds this one anyway (the cache's watch
	// keeps it). Clients sorts its copy.
	ts.Subscribed = req.GetResourceNames()
	switch {
	case req.GetErrorDetail() != nil:
		ts.LastNACK = &nackInfo{Version: ts.SentVersion, Error: req.GetErrorDetail().GetMessage(), At: time.Now()}
		t.metrics.NACK(req.GetTypeUrl())
		t.log.Warn("xDS client rejected resources (NACK); not re-sending them",
			"node", s.NodeID, "type", req.GetTypeUrl(), "version", ts.SentVersion, "error", req.GetErrorDetail().GetMessage())
	case req.GetResponseNonce() != "":
		ts.AckedVersion = req.GetVersionInfo()
	}
	return nil
}

func (t *ClientTracker) response(_ context.Context, id int64, req *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.streams[id]; s != nil {
		if ts := s.Types[req.GetTypeUrl()]; ts != nil {
			ts.SentVersion = resp.GetVersionInfo()
		}
	}
}

// Clients lists the connected clients, sorted by node ID then address.
func (t *ClientTracker) Clients() []any {
	t.mu.Lock()
	defer t.mu.Unlock()
	states := make([]*clientState, 0, len(t.streams))
	for _, s := range t.streams {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool {
		if states[i].NodeID != states[j].NodeID {
			return states[i].NodeID < states[j].NodeID
		}
		return states[i].Address < states[j].Address
	})
	out := make([]any, 0, len(states))
	for _, s := range states {
		c := *s
		c.Types = make(map[string]*typeState, len(s.Types))
		for k, v := range s.Types {
			vc := *v
			vc.Subscribed = slices.Sorted(slices.Values(v.Subscribed))
			c.Types[k] = &vc
		}
		out = append(out, c)
	}
	return out
}
