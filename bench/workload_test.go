package main

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestEnsureWorkloadCreatesThePlanOnce(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	p := planFor(1000, 5)
	for range 2 { // the second time everything exists
		if err := ensureWorkload(ctx, c, p); err != nil {
			t.Fatal(err)
		}
	}
	deployments, services := 0, 0
	for i := range benchNamespaces {
		ds, err := c.AppsV1().Deployments(benchNS(i)).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		svcs, err := c.CoreV1().Services(benchNS(i)).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		deployments, services = deployments+len(ds.Items), services+len(svcs.Items)
	}
	if deployments != p.deployments || services != p.deployments {
		t.Errorf("%d deployments and %d services, want %d of each", deployments, services, p.deployments)
	}
}

func TestCountPodsFromWorkloadStatuses(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	p := planFor(1000, 5)
	if err := ensureWorkload(ctx, c, p); err != nil {
		t.Fatal(err)
	}
	if n, err := countPods(ctx, c); err != nil || n != 0 {
		t.Fatalf("before any pod runs: %d, %v", n, err)
	}
	d, err := c.AppsV1().Deployments(benchNS(0)).Get(ctx, "web-00000", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{ReadyReplicas: 7}
	if _, err := c.AppsV1().Deployments(benchNS(0)).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ds, err := c.AppsV1().DaemonSets(benchNS(0)).Get(ctx, "node-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds.Status.NumberReady = 5
	if _, err := c.AppsV1().DaemonSets(benchNS(0)).UpdateStatus(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := countPods(ctx, c); err != nil || n != 12 {
		t.Errorf("countPods = %d, %v; want 12", n, err)
	}
}
