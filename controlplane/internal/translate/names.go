// Package translate turns the model into xDS resources. It is the one place that
// knows what gRPC clients require of them (see /work/shared notes, checked in
// translate_test.go): router filter last, RDS and EDS over ADS, a non-zero
// weight on every locality, only serving endpoints in EDS.
package translate

import (
	"strconv"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// Options are cluster-wide naming settings.
type Options struct {
	// ClusterDomain is the Kubernetes cluster domain, e.g. "cluster.local".
	ClusterDomain string
}

// Aliases lists every target a client may dial for the service: svc, svc.ns,
// svc.ns.svc and svc.ns.svc.<domain>, each also with ":port" when the port is
// known. Each alias is a listener name, since xds:///NAME asks LDS for NAME.
func Aliases(svc model.Service, opts Options) []string {
	base := []string{
		svc.Key.Name,
		svc.Key.Name + "." + svc.Key.Namespace,
		svc.Key.Name + "." + svc.Key.Namespace + ".svc",
	}
	if opts.ClusterDomain != "" {
		base = append(base, svc.Key.Name+"."+svc.Key.Namespace+".svc."+opts.ClusterDomain)
	}
	out := append([]string(nil), base...)
	if svc.Port != 0 {
		port := ":" + strconv.FormatUint(uint64(svc.Port), 10)
		for _, b := range base {
			out = append(out, b+port)
		}
	}
	return out
}

// RouteName, ClusterName and the EDS service name are one per service.
func RouteName(key model.ServiceKey) string { return "kxds/" + key.Namespace + "/" + key.Name }

// ClusterName is also the ClusterLoadAssignment's name.
func ClusterName(key model.ServiceKey) string { return "kxds/" + key.Namespace + "/" + key.Name }
