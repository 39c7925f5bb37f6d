package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// createNamespace creates a namespace that is deleted when the test ends.
func createNamespace(t *testing.T, name string) {
	t.Helper()
	ctx := testContext(t)
	_, err := env.client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"e2e": "true"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

func container(name string, cpu, mem string) v1.Container {
	return v1.Container{
		Name:  name,
		Image: "registry.example/" + name + ":1.0",
		Resources: v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem)},
			Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem)},
		},
	}
}

// createDeployment creates a deployment of pods with two containers that run on
// the kwok nodes.
func createDeployment(t *testing.T, ns, name string, replicas int32) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name, "tier": "web", "team": "e2e", "env": "test", "version": "v1"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{
					NodeSelector: map[string]string{"type": "kwok"},
					Containers:   []v1.Container{container("app", "100m", "128Mi"), container("sidecar", "250m", "64Mi")},
				},
			},
		},
	}
	d, err := env.client.AppsV1().Deployments(ns).Create(testContext(t), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitAvailable waits until the deployment has all replicas available.
func waitAvailable(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	eventually(t, 2*time.Minute, fmt.Sprintf("deployment %s/%s available", ns, name), func() error {
		d, err := env.client.AppsV1().Deployments(ns).Get(testContext(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Status.AvailableReplicas != replicas || d.Status.UpdatedReplicas != replicas || d.Status.Replicas != replicas {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
}

// createPendingPod creates a pod that no node can take, so that it stays Pending
// until the test changes its status.
func createPendingPod(t *testing.T, ns, name string) *v1.Pod {
	t.Helper()
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1.PodSpec{
			NodeSelector: map[string]string{"type": "nowhere"},
			Containers:   []v1.Container{container("app", "50m", "32Mi")},
		},
	}
	p, err := env.client.CoreV1().Pods(ns).Create(testContext(t), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
