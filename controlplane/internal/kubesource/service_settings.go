package kubesource

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// settings is how one Service is served, from a config entry or annotations.
type settings struct {
	portName        string
	grpcServiceName string
	locality        model.Locality
	healthCheck     bool
}

// settingsFor decides whether svc is served and with which settings. A config
// entry (inConfig) always wins; annotations that disagree with it are reported
// as a conflict. Otherwise the Service must opt in with valid annotations.
func settingsFor(svc *corev1.Service, wanted WantedService, inConfig bool) (settings, bool, []Problem) {
	key := model.ServiceKey{Namespace: svc.Namespace, Name: svc.Name}
	ann, err := parseAnnotations(svc)
	var problems []Problem
	if len(ann.unknown) > 0 {
		problems = append(problems, Problem{key, ReasonUnknownAnnotation,
			fmt.Errorf("unknown annotations %s are ignored (known: %s, %s, %s, %s)", strings.Join(ann.unknown, ", "),
				AnnotationEnabled, AnnotationPortName, AnnotationGRPCServiceName, AnnotationHealthCheck)})
	}

	if inConfig {
		st := settings{
			portName:        wanted.PortName,
			grpcServiceName: wanted.GRPCServiceName,
			locality:        wanted.Locality,
			healthCheck:     wanted.HealthCheck,
		}
		if err != nil {
			problems = append(problems, Problem{key, ReasonConfigConflict,
				fmt.Errorf("%w; the service is in the config file, whose settings are used", err)})
		} else if diffs := ann.differences(wanted); len(diffs) > 0 {
			problems = append(problems, Problem{key, ReasonConfigConflict,
				fmt.Errorf("annotations differ from the config file (%s); the config file's settings are used",
					strings.Join(diffs, "; "))})
		}
		return st, true, problems
	}

	if err != nil {
		return settings{}, false, append(problems, Problem{key, ReasonInvalidAnnotation, err})
	}
	if !ann.enabled {
		return settings{}, false, nil // not for kxds: its other annotations do not matter
	}
	return settings{
		portName:        ann.portName,
		grpcServiceName: ann.grpcServiceName,
		healthCheck:     ann.healthCheck,
	}, true, problems
}

// differences lists the present annotations whose values differ from the
// config entry. Annotations on a Service that did not opt in are not compared.
func (a annotationSettings) differences(w WantedService) []string {
	if !a.enabled {
		return nil
	}
	var diffs []string
	if a.setPortName && a.portName != w.PortName {
		diffs = append(diffs, fmt.Sprintf("%s %q, config portName %q", AnnotationPortName, a.portName, w.PortName))
	}
	if a.setGRPC && a.grpcServiceName != w.GRPCServiceName {
		diffs = append(diffs, fmt.Sprintf("%s %q, config grpcServiceName %q", AnnotationGRPCServiceName, a.grpcServiceName, w.GRPCServiceName))
	}
	if a.setHealthCheck && a.healthCheck != w.HealthCheck {
		diffs = append(diffs, fmt.Sprintf("%s %t, config healthCheck %t", AnnotationHealthCheck, a.healthCheck, w.HealthCheck))
	}
	return diffs
}
