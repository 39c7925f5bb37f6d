package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Probes change objects and time how long the change takes to be queryable
// in the receiver. Their pods are bound to a node no kubelet (or kwok) runs,
// so that nothing but the probe changes their status.
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
	initial string // query that holds before the change
	changed string // query that holds once the change is visible; "" for delete
	gone    string // delete: query that is empty once the series ended
	apply   func(ctx context.Context) error
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
func (b *bench) prepareProbes(ctx context.Context, label, prefix string) ([]probe, error) {
	if err := b.ensureStaticNode(ctx); err != nil {
		return nil, err
	}
	c := b.client
	sel := func(extra string) string { return fmt.Sprintf(`{namespace=%q,bench=%q,%s}`, probeNS, label, extra) }
	var probes []probe
	for i := range b.opts.changes + goneProbes {
		name := fmt.Sprintf("%s-%d", prefix, i)
		kind := []string{"scale", "phase", "restart"}[i%3]
		if i >= b.opts.changes {
			kind = "delete"
		}
		p := probe{kind: kind, name: name}
		switch kind {
		case "scale":
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: probeNS},
				Spec: appsv1.DeploymentSpec{Replicas: new(int32(0)), Selector: selector(name), Template: podTemplate(name, i)}}
			d.Spec.Template.Spec.NodeSelector = map[string]string{"type": "none"} // never scheduled
			if _, err := c.AppsV1().Deployments(probeNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
				return nil, err
			}
			p.initial = "kube_deployment_spec_replicas" + sel(fmt.Sprintf("deployment=%q", name)) + " == 0"
			p.changed = "kube_deployment_spec_replicas" + sel(fmt.Sprintf("deployment=%q", name)) + " == 1"
			p.apply = func(ctx context.Context) error {
				_, err := c.AppsV1().Deployments(probeNS).Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{})
				return err
			}
		default:
			if _, err := c.CoreV1().Pods(probeNS).Create(ctx, probePod(name), metav1.CreateOptions{}); err != nil {
				return nil, err
			}
			pod := fmt.Sprintf("pod=%q", name)
			p.initial = "kube_pod_status_phase" + sel(pod+`,phase="Pending"`) + " == 1"
			switch kind {
			case "phase":
				p.changed = "kube_pod_status_phase" + sel(pod+`,phase="Running"`) + " == 1"
				p.apply = b.podStatus(name, func(s *corev1.PodStatus) { s.Phase = corev1.PodRunning })
			case "restart":
				p.changed = "kube_pod_container_status_restarts_total" + sel(pod+`,container="app"`) + " == 3"
				p.apply = b.podStatus(name, func(s *corev1.PodStatus) {
					s.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "registry.example/app:1.4.2", RestartCount: 3,
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}
				})
			case "delete":
				p.gone = "kube_pod_info" + sel(pod)
				p.apply = func(ctx context.Context) error {
					return c.CoreV1().Pods(probeNS).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))})
				}
			}
		}
		probes = append(probes, p)
	}
	return probes, nil
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

// probesVisible waits until every probe's initial state is in the receiver.
func (b *bench) probesVisible(ctx context.Context, probes []probe) error {
	for _, p := range probes {
		err := poll(ctx, time.Second, probeWait, func() (bool, error) {
			vs, err := query(ctx, b.promURL, p.initial)
			return len(vs) > 0, err
		})
		if err != nil {
			return fmt.Errorf("probe %s: initial state %s: %w", p.name, p.initial, err)
		}
	}
	return nil
}

// runProbes starts one probe every probeStride and times each from its write
// to the receiver's answer, polling every 100 ms.
func (b *bench) runProbes(ctx context.Context, probes []probe) (changed, gone []time.Duration, failed []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			sleep(ctx, time.Duration(i)*probeStride)
			var t0 time.Time
			err := func() error {
				t0 = time.Now()
				if err := p.apply(ctx); err != nil {
					return err
				}
				return poll(ctx, 100*time.Millisecond, probeWait, func() (bool, error) {
					if p.gone != "" {
						vs, err := query(ctx, b.promURL, p.gone)
						return err == nil && len(vs) == 0, err
					}
					vs, err := query(ctx, b.promURL, p.changed)
					return len(vs) > 0, err
				})
			}()
			d := time.Since(t0)
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
