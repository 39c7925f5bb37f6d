package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// The workload: namespaces of deployments (10 pods each, with a service, a
// configmap and a secret), statefulsets, jobs and one daemonset. Pods have
// two containers with requests and limits and six labels.
const (
	benchNamespaces = 10
	podsPerDeploy   = 10
	podsPerSts      = 5
)

// plan is how many of each workload make about n pods on nodes nodes.
type plan struct {
	deployments, statefulsets, jobs int
	daemonsetPods                   int
}

func planFor(n, nodes int) plan {
	p := plan{statefulsets: max(1, n/500), jobs: max(1, n/500), daemonsetPods: nodes}
	rest := n - p.statefulsets*podsPerSts - p.jobs - p.daemonsetPods
	p.deployments = max(1, rest/podsPerDeploy)
	return p
}

// pods is how many pods the plan makes.
func (p plan) pods() int {
	return p.deployments*podsPerDeploy + p.statefulsets*podsPerSts + p.jobs + p.daemonsetPods
}

func benchNS(i int) string { return fmt.Sprintf("bench-%d", i%benchNamespaces) }

func podTemplate(app string, i int) corev1.PodTemplateSpec {
	labels := map[string]string{
		"app": app, "team": fmt.Sprintf("team-%d", i%7), "tier": []string{"web", "api", "worker"}[i%3],
		"env": "prod", "version": fmt.Sprintf("v1.%d.0", i%4), "component": "bench",
	}
	res := func(cpu, mem string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			// kwok nodes carry no taint the scheduler would refuse; tolerate
			// kwok's own, in case.
			Tolerations:  []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists}},
			NodeSelector: map[string]string{"type": "kwok"},
			Containers: []corev1.Container{
				{Name: "app", Image: "registry.example/app:1.4.2",
					Resources: corev1.ResourceRequirements{Requests: res("10m", "16Mi"), Limits: res("100m", "64Mi")},
					Ports:     []corev1.ContainerPort{{ContainerPort: 8080}}},
				{Name: "sidecar", Image: "registry.example/proxy:2.0.1",
					Resources: corev1.ResourceRequirements{Requests: res("5m", "8Mi"), Limits: res("50m", "32Mi")}},
			},
		},
	}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// createWorkers is how many creations are under way at once: enough to
// keep the apiserver busy, whose latency, not the bench, bounds each one.
const createWorkers = 32

// ensureWorkload creates what p needs and is missing (an earlier, smaller plan
// is a prefix of a larger one): the namespaces, then the workloads, then the
// services, configmaps and secrets, each step createWorkers at a time, so that
// the controllers start on the first deployments while the rest are created.
func ensureWorkload(ctx context.Context, c kubernetes.Interface, p plan) error {
	if err := ensureNamespaces(ctx, c); err != nil {
		return err
	}
	return createAll(ctx, append(workloadCreations(c, p), deploymentExtras(c, p)...))
}

// creation creates one object; "already exists" is no error.
type creation func(ctx context.Context) error

// createAll runs cs createWorkers at a time; the first error stops the rest.
func createAll(ctx context.Context, cs []creation) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(createWorkers)
	for _, create := range cs {
		g.Go(func() error { return ignoreExists(create(ctx)) })
	}
	return g.Wait()
}

func namespaceCreations(c kubernetes.Interface) []creation {
	var cs []creation
	for i := range benchNamespaces {
		cs = append(cs, func(ctx context.Context) error {
			_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS(i)}}, metav1.CreateOptions{})
			return err
		})
	}
	return cs
}

// workloadCreations are the objects that make pods: the deployments
// first, which make most.
func workloadCreations(c kubernetes.Interface, p plan) []creation {
	var cs []creation
	for i := range p.deployments {
		ns, app := benchNS(i), fmt.Sprintf("web-%05d", i)
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns, Labels: map[string]string{"app": app}},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(podsPerDeploy)), Selector: selector(app), Template: podTemplate(app, i)}}
		cs = append(cs, func(ctx context.Context) error {
			_, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
			return err
		})
	}
	for i := range p.statefulsets {
		ns, app := benchNS(i), fmt.Sprintf("db-%04d", i)
		s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
			Spec: appsv1.StatefulSetSpec{Replicas: new(int32(podsPerSts)), Selector: selector(app), ServiceName: app,
				PodManagementPolicy: appsv1.ParallelPodManagement, Template: podTemplate(app, i)}}
		cs = append(cs, func(ctx context.Context) error {
			_, err := c.AppsV1().StatefulSets(ns).Create(ctx, s, metav1.CreateOptions{})
			return err
		})
	}
	for i := range p.jobs {
		ns, app := benchNS(i), fmt.Sprintf("batch-%04d", i)
		tmpl := podTemplate(app, i)
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns}, Spec: batchv1.JobSpec{Template: tmpl}}
		cs = append(cs, func(ctx context.Context) error {
			_, err := c.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{})
			return err
		})
	}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "node-agent", Namespace: benchNS(0)},
		Spec: appsv1.DaemonSetSpec{Selector: selector("node-agent"), Template: podTemplate("node-agent", 0)}}
	return append(cs, func(ctx context.Context) error {
		_, err := c.AppsV1().DaemonSets(ds.Namespace).Create(ctx, ds, metav1.CreateOptions{})
		return err
	})
}

// deploymentExtras are each deployment's service, configmap and secret.
func deploymentExtras(c kubernetes.Interface, p plan) []creation {
	var cs []creation
	for i := range p.deployments {
		ns, app := benchNS(i), fmt.Sprintf("web-%05d", i)
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": app},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns}, Data: map[string]string{"config.yaml": "level: info\n"}}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns}, StringData: map[string]string{"token": "t"}}
		cs = append(cs,
			func(ctx context.Context) error {
				_, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
				return err
			},
			func(ctx context.Context) error {
				_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
				return err
			},
			func(ctx context.Context) error {
				_, err := c.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
				return err
			})
	}
	return cs
}

// ensureNamespaces creates the bench namespaces that are missing, all at
// once.
func ensureNamespaces(ctx context.Context, c kubernetes.Interface) error {
	return createAll(ctx, namespaceCreations(c))
}

// ignoreExists makes "already exists" no error.
func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// countPods counts the pods of the bench namespaces that run or have
// completed, as their workloads' statuses count them: ready replicas of the
// deployments, statefulsets and the daemonset, succeeded pods of the jobs.
// Listing the workloads, not the pods, keeps the count cheap for the
// apiserver at 50,000 pods.
func countPods(ctx context.Context, c kubernetes.Interface) (int, error) {
	n := 0
	for i := range benchNamespaces {
		k, err := countNamespace(ctx, c, benchNS(i))
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// countNamespace counts the running and completed pods of one namespace's
// workloads.
func countNamespace(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
	n := 0
	err := pages(ctx, func(ctx context.Context, opts metav1.ListOptions) (string, error) {
		l, err := c.AppsV1().Deployments(ns).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for _, d := range l.Items {
			n += int(d.Status.ReadyReplicas)
		}
		return l.Continue, nil
	})
	if err != nil {
		return 0, err
	}
	sts, err := c.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	for _, s := range sts.Items {
		n += int(s.Status.ReadyReplicas)
	}
	jobs, err := c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	for _, j := range jobs.Items {
		n += int(j.Status.Succeeded)
	}
	ds, err := c.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	for _, d := range ds.Items {
		n += int(d.Status.NumberReady)
	}
	return n, nil
}

// pages calls list with each page's options until it returns no continue
// token.
func pages(ctx context.Context, list func(context.Context, metav1.ListOptions) (string, error)) error {
	opts := metav1.ListOptions{Limit: 1000}
	for {
		next, err := list(ctx, opts)
		if err != nil || next == "" {
			return err
		}
		opts.Continue = next
	}
}

// waitPods waits until want pods run (or have completed).
func waitPods(ctx context.Context, c kubernetes.Interface, want int, timeout time.Duration, progress func(int)) error {
	last := -1
	return poll(ctx, 5*time.Second, timeout, func() (bool, error) {
		n, err := countPods(ctx, c)
		if err != nil {
			return false, err
		}
		if n != last {
			progress(n)
			last = n
		}
		return n >= want, nil
	})
}
