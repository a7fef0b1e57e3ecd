package dnssource

import (
	"fmt"
	"strings"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// WantedService is one Kubernetes service port to discover through its SRV
// record, with what DNS cannot tell about it.
type WantedService struct {
	Namespace string
	Name      string
	// PortName is the service port's name, e.g. "grpc"; SRV records exist
	// only for named ports.
	PortName string
	// Protocol is the port's protocol in lower case; empty means "tcp".
	Protocol string
	// GRPCServiceName, Locality and HealthCheck are copied to model.Service.
	GRPCServiceName string
	Locality        model.Locality
	HealthCheck     bool
}

func (w WantedService) key() model.ServiceKey {
	return model.ServiceKey{Namespace: w.Namespace, Name: w.Name}
}

func (w WantedService) protocol() string {
	if w.Protocol == "" {
		return "tcp"
	}
	return w.Protocol
}

// srvName is the record's absolute name. The trailing dot keeps the
// resolver from trying resolv.conf's search domains first (ndots:5 in pods).
func (w WantedService) srvName(clusterDomain string) string {
	return fmt.Sprintf("_%s._%s.%s.%s.svc.%s.", w.PortName, w.protocol(), w.Name, w.Namespace, clusterDomain)
}

func (w WantedService) validate() error {
	for _, f := range []struct{ name, value string }{
		{"namespace", w.Namespace}, {"name", w.Name}, {"portName", w.PortName}, {"protocol", w.protocol()},
	} {
		if f.value == "" {
			return fmt.Errorf("%s is required", f.name)
		}
		if strings.ContainsAny(f.value, ". ") {
			return fmt.Errorf("%s %q: want a single DNS label", f.name, f.value)
		}
	}
	return nil
}
