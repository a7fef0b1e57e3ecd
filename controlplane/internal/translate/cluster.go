package translate

import (
	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// Cluster is an EDS cluster over ADS with round-robin picking. gRPC wraps
// ROUND_ROBIN in wrr_locality, so locality weights are honoured.
func Cluster(name string) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig: &cluster.Cluster_EdsClusterConfig{
			EdsConfig:   adsSource,
			ServiceName: name,
		},
		LbPolicy: cluster.Cluster_ROUND_ROBIN,
	}
}
