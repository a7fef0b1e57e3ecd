package kxds

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeOptions select the Kubernetes API server: in a pod, its service account;
// elsewhere the kubeconfig (KUBECONFIG or ~/.kube/config), as kubectl does.
type KubeOptions struct {
	Kubeconfig string
	Context    string
	// Namespace limits discovery to one namespace (then a Role suffices).
	Namespace string
	// WatchNodes reads endpoint regions from Node labels (needs a ClusterRole).
	WatchNodes bool
}

type kubeClient struct {
	clientset kubernetes.Interface
}

func newKubeClient(o KubeOptions) (*kubeClient, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w (in a pod, kxds uses its service account; elsewhere set --kubeconfig)", err)
	}
	cfg.UserAgent = "kxds"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &kubeClient{clientset: cs}, nil
}
