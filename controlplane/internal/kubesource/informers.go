package kubesource

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// Indexes on the EndpointSlice informer, so that an event recomputes only the
// Services it concerns.
const (
	// byService: "namespace/name" of the slice's kubernetes.io/service-name.
	byService = "kxds-service"
	// byNode: the nodes the slice's endpoints run on (for region changes).
	byNode = "kxds-node"
)

var sliceIndexers = cache.Indexers{
	byService: func(obj any) ([]string, error) {
		if key, ok := sliceServiceKey(obj); ok {
			return []string{key.String()}, nil
		}
		return nil, nil
	},
	byNode: func(obj any) ([]string, error) {
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok {
			return nil, nil
		}
		var nodes []string
		seen := map[string]bool{}
		for _, e := range s.Endpoints {
			if e.NodeName != nil && !seen[*e.NodeName] {
				seen[*e.NodeName] = true
				nodes = append(nodes, *e.NodeName)
			}
		}
		return nodes, nil
	},
}

// sliceServiceKey is the Service an EndpointSlice belongs to, by the
// kubernetes.io/service-name label every controller (and kubectl user) sets.
func sliceServiceKey(obj any) (model.ServiceKey, bool) {
	s, ok := unwrapTombstone(obj).(*discoveryv1.EndpointSlice)
	if !ok {
		return model.ServiceKey{}, false
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return model.ServiceKey{}, false
	}
	return model.ServiceKey{Namespace: s.Namespace, Name: name}, true
}

func serviceKeyOf(obj any) (model.ServiceKey, bool) {
	s, ok := unwrapTombstone(obj).(*corev1.Service)
	if !ok {
		return model.ServiceKey{}, false
	}
	return model.ServiceKey{Namespace: s.Namespace, Name: s.Name}, true
}

// unwrapTombstone returns the last known object of a delete notification that
// the informer missed while disconnected.
func unwrapTombstone(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// trimObject is the informers' transform: it drops what kxds never reads
// before objects enter the cache. managedFields are often the largest part of
// an object, and of a Node only the name and labels matter here (its status,
// with image lists, is big and changes every few seconds).
func trimObject(obj any) (any, error) {
	if n, ok := obj.(*corev1.Node); ok {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion, Labels: n.Labels,
		}}, nil
	}
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// nodeRegion is the region label Kubernetes puts on Nodes.
func nodeRegion(n *corev1.Node) string { return n.Labels[corev1.LabelTopologyRegion] }
