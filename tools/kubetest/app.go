package kubetest

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// App is what the walkthrough deploys per backend: a Deployment whose pods
// are bound to one (fake kubelet) node and name their container port "grpc"
// (50051), and a headless Service over that port.
type App struct {
	Namespace string // default "default"
	// Deployment names the Deployment and labels its pods app=<Deployment>.
	Deployment string
	// Service names the headless Service; default Deployment.
	Service  string
	NodeName string
	Replicas int32
	// ServicePort is the Service's port named "grpc"; default 50051.
	ServicePort int32
}

// DeployApp creates the Deployment and the Service, failing the test on error.
func (c *Cluster) DeployApp(t testing.TB, a App) {
	t.Helper()
	if a.Namespace == "" {
		a.Namespace = "default"
	}
	if a.Service == "" {
		a.Service = a.Deployment
	}
	if a.ServicePort == 0 {
		a.ServicePort = 50051
	}
	ctx := context.Background()
	labels := map[string]string{"app": a.Deployment}
	replicas := a.Replicas
	_, err := c.clientset.AppsV1().Deployments(a.Namespace).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: a.Deployment},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{NodeName: a.NodeName, Containers: []corev1.Container{{
					Name: "app", Image: "none", Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: 50051}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: creating deployment %s/%s: %v", a.Namespace, a.Deployment, err)
	}
	_, err = c.clientset.CoreV1().Services(a.Namespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: a.Service},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  labels,
			Ports:     []corev1.ServicePort{{Name: "grpc", Port: a.ServicePort, TargetPort: intstr.FromString("grpc")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: creating service %s/%s: %v", a.Namespace, a.Service, err)
	}
}
