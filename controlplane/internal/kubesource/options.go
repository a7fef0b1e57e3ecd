package kubesource

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// WantedService is a Kubernetes Service kxds must serve whether or not it carries
// the opt-in annotation; the config file layer supplies these. Its settings win
// over the Service's annotations (see Options.Services).
type WantedService struct {
	Key model.ServiceKey
	// PortName selects the Service port (and the EndpointSlice port of the same
	// name). Empty means the Service's only port; with several ports that is an
	// error reported as ReasonPortNotFound.
	PortName string
	// GRPCServiceName is the service name for grpc.health.v1 checks.
	GRPCServiceName string
	// Locality is the default for endpoints: an endpoint's own zone (from its
	// EndpointSlice) or region (from its Node, see Options.WatchNodes) replace
	// the matching field.
	Locality model.Locality
	// HealthCheck turns active health checking on for the service.
	HealthCheck bool
}

// Options configures New.
type Options struct {
	// Client talks to the Kubernetes API. Required. Run needs list and watch on
	// services and discovery.k8s.io endpointslices (and nodes with WatchNodes).
	Client kubernetes.Interface
	// Namespace limits the watch to one namespace (and the RBAC needed to a
	// Role); empty watches all namespaces.
	Namespace string
	// Services are served even without the opt-in annotation. A Service listed
	// here and also annotated uses these settings; differing annotations are
	// reported as ReasonConfigConflict and otherwise ignored, so the config
	// file stays the single authority for the services it names.
	Services []WantedService
	// WatchNodes adds an informer on Nodes to take each endpoint's region from
	// its Node's topology.kubernetes.io/region label (zones come from the
	// EndpointSlice already). It needs list/watch on nodes, cluster-wide.
	WatchNodes bool
	// APICheckInterval is how often Run checks that the API server answers,
	// to log "still waiting" before the initial sync and outages after it
	// (the informers retry silently). Default 10 s.
	APICheckInterval time.Duration
	// Logger receives the source's logs; default slog.Default().
	Logger *slog.Logger
	// OnProblem, if set, is called once each time a service problem appears
	// (or its message changes), e.g. to count it in a metric. It runs on the
	// source's worker goroutine and must not block.
	OnProblem func(Problem)
}

// validate checks the options and indexes the wanted services.
func (o Options) validate() (map[model.ServiceKey]WantedService, error) {
	if o.Client == nil {
		return nil, errors.New("kubesource: Options.Client is required")
	}
	if o.Namespace != "" && !dns1123Label.MatchString(o.Namespace) {
		return nil, fmt.Errorf("kubesource: Options.Namespace: %q is not a valid namespace name", o.Namespace)
	}
	wanted := make(map[model.ServiceKey]WantedService, len(o.Services))
	for i, w := range o.Services {
		where := fmt.Sprintf("kubesource: Options.Services[%d] (%s)", i, w.Key)
		switch {
		case !dns1123Label.MatchString(w.Key.Namespace) || !dns1123Label.MatchString(w.Key.Name):
			return nil, fmt.Errorf("%s: namespace and name must be DNS-1123 labels", where)
		case o.Namespace != "" && w.Key.Namespace != o.Namespace:
			return nil, fmt.Errorf("%s: outside the watched namespace %q", where, o.Namespace)
		case w.PortName != "" && !portName.MatchString(w.PortName):
			return nil, fmt.Errorf("%s: PortName %q is not a valid port name", where, w.PortName)
		}
		if _, dup := wanted[w.Key]; dup {
			return nil, fmt.Errorf("%s: listed twice", where)
		}
		wanted[w.Key] = w
	}
	return wanted, nil
}
