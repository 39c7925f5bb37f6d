package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Probes change objects and time how long the change takes to reach the
// receiver: to be queryable in Prometheus, or delivered to the sink. Their
// pods are bound to a node no kubelet (or kwok) runs, so that nothing but the
// probe changes their status.
const (
	probeNS     = "bench-probes"
	staticNode  = "bench-static"
	goneProbes  = 5
	probeStride = time.Second // between the starts of two probes
	probeWait   = 3 * time.Minute
)

type probe struct {
	kind    string // scale, phase, restart, delete
	name    string
	initial probeCond // holds before the change
	changed probeCond // holds once the change is received; for delete, the series ended
	apply   func(ctx context.Context) error
}

// probeCond is a condition on one series of a side in the probes' namespace.
type probeCond struct {
	metric string
	labels map[string]string // besides namespace and bench
	value  float64           // the value it has, unless gone
	gone   bool              // the series ended (a staleness marker at the sink)
}

// selector is the label matchers of c's series in PromQL.
func (c probeCond) selector(label string) string {
	ms := []string{fmt.Sprintf("namespace=%q", probeNS), fmt.Sprintf("bench=%q", label)}
	keys := slices.Sorted(maps.Keys(c.labels))
	for _, k := range keys {
		ms = append(ms, fmt.Sprintf("%s=%q", k, c.labels[k]))
	}
	return c.metric + "{" + strings.Join(ms, ",") + "}"
}

// promQL is the query that returns something once c holds (nothing, if gone).
func (c probeCond) promQL(label string) string {
	if c.gone {
		return c.selector(label)
	}
	return c.selector(label) + " == " + strconv.FormatFloat(c.value, 'g', -1, 64)
}

// watch is the sink's watch for c.
func (c probeCond) watch(id, label string) *sinkWatch {
	ls := map[string]string{"namespace": probeNS, "bench": label}
	maps.Copy(ls, c.labels)
	w := &sinkWatch{ID: id, Name: c.metric, Labels: ls, Stale: c.gone}
	if !c.gone {
		v := c.value
		w.Value = &v
	}
	return w
}

func (b *bench) ensureStaticNode(ctx context.Context) error {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: staticNode, Labels: map[string]string{"type": "static"}}}
	if _, err := b.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}}
	if _, err := b.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func probePod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: probeNS, Labels: map[string]string{"probe": "true"}},
		Spec: corev1.PodSpec{
			NodeName: staticNode,
			// The node never becomes ready: stay on it regardless.
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers:  []corev1.Container{{Name: "app", Image: "registry.example/app:1.4.2"}},
		},
	}
}

// prepareProbes creates the objects of the side's probes before the side
// starts, so that they are part of its initial state.
func (b *bench) prepareProbes(ctx context.Context, prefix string) ([]probe, error) {
	if err := b.ensureStaticNode(ctx); err != nil {
		return nil, err
	}
	var probes []probe
	for i := range b.opts.changes + goneProbes {
		name := fmt.Sprintf("%s-%d", prefix, i)
		kind := []string{"scale", "phase", "restart"}[i%3]
		if i >= b.opts.changes {
			kind = "delete"
		}
		p, err := b.makeProbe(ctx, kind, name, i)
		if err != nil {
			return nil, err
		}
		probes = append(probes, p)
	}
	return probes, nil
}

// makeProbe creates the object of one probe.
func (b *bench) makeProbe(ctx context.Context, kind, name string, i int) (probe, error) {
	c := b.client
	p := probe{kind: kind, name: name}
	if kind == "scale" {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: probeNS},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(0)), Selector: selector(name), Template: podTemplate(name, i)}}
		d.Spec.Template.Spec.NodeSelector = map[string]string{"type": "none"} // never scheduled
		if _, err := c.AppsV1().Deployments(probeNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			return p, err
		}
		dep := map[string]string{"deployment": name}
		p.initial = probeCond{metric: "kube_deployment_spec_replicas", labels: dep, value: 0}
		p.changed = probeCond{metric: "kube_deployment_spec_replicas", labels: dep, value: 1}
		p.apply = func(ctx context.Context) error {
			_, err := c.AppsV1().Deployments(probeNS).Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{})
			return err
		}
		return p, nil
	}
	if _, err := c.CoreV1().Pods(probeNS).Create(ctx, probePod(name), metav1.CreateOptions{}); err != nil {
		return p, err
	}
	p.initial = probeCond{metric: "kube_pod_status_phase", labels: map[string]string{"pod": name, "phase": "Pending"}, value: 1}
	switch kind {
	case "phase":
		p.changed = probeCond{metric: "kube_pod_status_phase", labels: map[string]string{"pod": name, "phase": "Running"}, value: 1}
		p.apply = b.podStatus(name, func(s *corev1.PodStatus) { s.Phase = corev1.PodRunning })
	case "restart":
		p.changed = probeCond{metric: "kube_pod_container_status_restarts_total", labels: map[string]string{"pod": name, "container": "app"}, value: 3}
		p.apply = b.podStatus(name, func(s *corev1.PodStatus) {
			s.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "registry.example/app:1.4.2", RestartCount: 3,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}
		})
	case "delete":
		p.changed = probeCond{metric: "kube_pod_info", labels: map[string]string{"pod": name}, gone: true}
		p.apply = func(ctx context.Context) error {
			return c.CoreV1().Pods(probeNS).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))})
		}
	}
	return p, nil
}

// podStatus returns a change that reads the pod, applies f to its status and
// writes it (the probe's clock includes the read, a few milliseconds).
func (b *bench) podStatus(name string, f func(*corev1.PodStatus)) func(context.Context) error {
	return func(ctx context.Context) error {
		p, err := b.client.CoreV1().Pods(probeNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		f(&p.Status)
		_, err = b.client.CoreV1().Pods(probeNS).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	}
}

// expectInitial registers the probes' initial states with the receiver,
// before the side starts.
func expectInitial(ctx context.Context, rx receiver, s *side, probes []probe) error {
	conds := map[string]probeCond{}
	for _, p := range probes {
		conds["initial-"+p.name] = p.initial
	}
	return rx.expect(ctx, s, conds)
}

// probesVisible waits until every probe's initial state is in the receiver.
func probesVisible(ctx context.Context, rx receiver, s *side, probes []probe) error {
	for _, p := range probes {
		if _, err := rx.await(ctx, s, "initial-"+p.name, p.initial); err != nil {
			return fmt.Errorf("probe %s: initial state: %w", p.name, err)
		}
	}
	return nil
}

// runProbes starts one probe every probeStride and times each from its write
// to the receiver: until a query shows it (Prometheus, polled every 100 ms)
// or until the request that carried it arrived (the sink).
func runProbes(ctx context.Context, rx receiver, s *side, probes []probe) (changed, gone []time.Duration, failed []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			sleep(ctx, time.Duration(i)*probeStride)
			d, err := runProbe(ctx, rx, s, p)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed = append(failed, fmt.Sprintf("%s (%s): %v", p.name, p.kind, err))
			case p.kind == "delete":
				gone = append(gone, d)
			default:
				changed = append(changed, d)
			}
		})
	}
	wg.Wait()
	slices.Sort(changed)
	slices.Sort(gone)
	return changed, gone, failed
}

// runProbe applies one probe's change and waits until it is received.
func runProbe(ctx context.Context, rx receiver, s *side, p probe) (time.Duration, error) {
	id := "changed-" + p.name
	if err := rx.expect(ctx, s, map[string]probeCond{id: p.changed}); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := p.apply(ctx); err != nil {
		return 0, err
	}
	at, err := rx.await(ctx, s, id, p.changed)
	if err != nil {
		return 0, err
	}
	return at.Sub(t0), nil
}

// removeProbes deletes the probe objects of a side.
func (b *bench) removeProbes(prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range b.opts.changes + goneProbes {
		name := fmt.Sprintf("%s-%d", prefix, i)
		_ = b.client.AppsV1().Deployments(probeNS).Delete(ctx, name, metav1.DeleteOptions{})
		_ = b.client.CoreV1().Pods(probeNS).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))})
	}
}

// churn scales the workload's deployments up and down by one pod, one step
// every 500 ms (60 pod creations and 60 deletions a minute, each with its
// status changes), until ctx is done; it leaves every deployment as it was.
func (b *bench) churn(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for k := b.churnStep; ; k++ {
		select {
		case <-ctx.Done():
			if k%2 == 1 { // a deployment is still one up
				b.scaleDeployment(k-1, podsPerDeploy)
			}
			b.churnStep = k + k%2
			return
		case <-tick.C:
		}
		replicas := podsPerDeploy + 1
		if k%2 == 1 {
			replicas = podsPerDeploy
		}
		b.scaleDeployment(k, replicas)
	}
}

func (b *bench) scaleDeployment(step, replicas int) {
	i := (step / 2) % b.plan.deployments
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	if _, err := b.client.AppsV1().Deployments(benchNS(i)).Patch(ctx, fmt.Sprintf("web-%05d", i), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		b.log.Warn("Churn step failed", "err", err)
	}
}
