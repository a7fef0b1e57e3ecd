// Package bootstrap writes the gRPC xDS bootstrap file that points clients at
// kxds, so nobody hand-writes it.
package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// Options describe the client that will read the file.
type Options struct {
	// Server is kxds' xDS address as the client reaches it, host:port.
	Server string
	// NodeID identifies the client; kxds serves any ID the same way.
	NodeID  string
	Cluster string
	Region  string
	Zone    string
	SubZone string
	// IgnoreResourceDeletion keeps serving the last config if kxds withdraws a
	// service by mistake (gRFC A53); it also hides real deletions.
	IgnoreResourceDeletion bool
}

// JSON renders the bootstrap, validating the options first.
func JSON(o Options) ([]byte, error) {
	if o.Server == "" {
		return nil, errors.New("xDS server address is required")
	}
	if _, port, err := net.SplitHostPort(o.Server); err != nil || port == "" {
		return nil, fmt.Errorf("xDS server address %q: want host:port", o.Server)
	}
	if o.NodeID == "" {
		return nil, errors.New("node ID is required")
	}
	features := []string{"xds_v3"}
	if o.IgnoreResourceDeletion {
		features = append(features, "ignore_resource_deletion")
	}
	type locality struct {
		Region  string `json:"region,omitempty"`
		Zone    string `json:"zone,omitempty"`
		SubZone string `json:"sub_zone,omitempty"`
	}
	type node struct {
		ID       string    `json:"id"`
		Cluster  string    `json:"cluster,omitempty"`
		Locality *locality `json:"locality,omitempty"`
	}
	n := node{ID: o.NodeID, Cluster: o.Cluster}
	if o.Region != "" || o.Zone != "" || o.SubZone != "" {
		n.Locality = &locality{o.Region, o.Zone, o.SubZone}
	}
	doc := map[string]any{
		"xds_servers": []any{map[string]any{
			"server_uri":      o.Server,
			"channel_creds":   []any{map[string]string{"type": "insecure"}},
			"server_features": features,
		}},
		"node": n,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
