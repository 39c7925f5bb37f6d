package agent

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// Realistic objects for the memory benchmark: what a cluster of web services
// looks like, with values repeated across objects as in real clusters.

func realisticPod(i int) *v1.Pod {
	p := benchPod(i, v1.PodRunning)
	p.UID = types.UID(fmt.Sprintf("5f0c6a1e-2b7d-4c1e-9a57-%012d", i))
	p.Name = fmt.Sprintf("web-%d-7d4b9c8f6d-%05d", i%50, i)
	p.Spec.NodeName = fmt.Sprintf("node-%d", i%50)
	p.Status.PodIP = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	p.Status.HostIP = fmt.Sprintf("192.168.0.%d", i%50)
	p.OwnerReferences[0].Name = fmt.Sprintf("web-%d-7d4b9c8f6d", i%50)
	p.Spec.ServiceAccountName = "default"
	p.Spec.SchedulerName = "default-scheduler"
	p.Spec.RestartPolicy = v1.RestartPolicyAlways
	p.Status.StartTime = &p.CreationTimestamp
	for j := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[j]
		cs.Image = p.Spec.Containers[j].Image
		cs.ImageID = "registry.example/" + cs.Name + "@sha256:9b7c0e4f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7"
		cs.ContainerID = fmt.Sprintf("containerd://%064d", i*2+j)
		cs.State.Running.StartedAt = p.CreationTimestamp
	}
	p.Status.Conditions = []v1.PodCondition{
		{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
		{Type: v1.PodScheduled, Status: v1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
		{Type: v1.PodInitialized, Status: v1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
		{Type: v1.ContainersReady, Status: v1.ConditionTrue, LastTransitionTime: p.CreationTimestamp},
	}
	return p
}

func realisticDeployment(i int) *appsv1.Deployment {
	r := int32(3)
	pct := intstr.FromString("25%")
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default", Name: fmt.Sprintf("web-%d", i), UID: types.UID(fmt.Sprintf("d-%d", i)),
			Generation: 3, CreationTimestamp: metav1.Unix(1700000000, 0),
			Labels: map[string]string{"app": "web", "team": "a", "env": "prod", "tier": "fe", "version": "v1"},
		},
		Spec: appsv1.DeploymentSpec{Replicas: &r, Strategy: appsv1.DeploymentStrategy{
			Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &pct, MaxUnavailable: &pct}}},
		Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 3, ObservedGeneration: 3,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: v1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: v1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			}},
	}
}

func realisticNode(i int) *v1.Node {
	rl := v1.ResourceList{
		v1.ResourceCPU: resource.MustParse("16"), v1.ResourceMemory: resource.MustParse("64Gi"),
		v1.ResourcePods: resource.MustParse("110"), v1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	conds := []v1.NodeCondition{}
	for _, c := range []v1.NodeConditionType{v1.NodeReady, v1.NodeMemoryPressure, v1.NodeDiskPressure, v1.NodePIDPressure} {
		st := v1.ConditionFalse
		if c == v1.NodeReady {
			st = v1.ConditionTrue
		}
		conds = append(conds, v1.NodeCondition{Type: c, Status: st})
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i), UID: types.UID(fmt.Sprintf("n-%d", i)),
			CreationTimestamp: metav1.Unix(1700000000, 0),
			Labels:            map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/os": "linux"}},
		Spec: v1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.0.0/24", i), ProviderID: fmt.Sprintf("aws:///eu-west-1a/i-%017d", i)},
		Status: v1.NodeStatus{Capacity: rl, Allocatable: rl, Conditions: conds,
			Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", i)}, {Type: v1.NodeHostName, Address: fmt.Sprintf("node-%d", i)}},
			NodeInfo: v1.NodeSystemInfo{KernelVersion: "6.1.0", OSImage: "Debian GNU/Linux 12", ContainerRuntimeVersion: "containerd://1.7.0",
				KubeletVersion: "v1.37.2", SystemUUID: fmt.Sprintf("ec2-%d", i)}},
	}
}

// BenchmarkSnapshotMemory reports the heap the snapshot keeps per object in
// steady state (after GC, the typed objects gone), next to an estimate of what
// kube-state-metrics keeps for the same object: its series rendered as
// exposition text, one []byte per family.
func BenchmarkSnapshotMemory(b *testing.B) {
	for _, c := range []struct {
		name, resource string
		newObj         func(i int) any
		opts           collectors.Options
	}{
		{"pods", "pods", func(i int) any { return realisticPod(i) }, collectors.Options{}},
		{"deployments", "deployments", func(i int) any { return realisticDeployment(i) }, collectors.Options{}},
		{"nodes", "nodes", func(i int) any { return realisticNode(i) }, collectors.Options{}},
		// --series-labels=pods=[team,app]: two labels on every series.
		{"pods-series-labels", "pods", func(i int) any { return realisticPod(i) }, collectors.Options{SeriesLabels: []string{"team", "app"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			const n = 2000
			rs, _ := collectors.Lookup([]string{c.resource})
			gen := rs[0].NewGenerator(c.opts)
			var perObject, ksmPerObject, seriesPerObject float64
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				s := NewSnapshot(&discard{}, newMetrics(nil, func() float64 { return 0 }))
				set := s.newSet(c.resource, counterFamilies(rs[0]))
				ksmBytes, nSeries := 0, 0
				for i := range n {
					o, _ := gen.Generate(c.newObj(i))
					ksmBytes += ksmTextBytes(o.Series)
					nSeries += len(o.Series)
					s.apply(set, o)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				perObject = float64(after.HeapAlloc-before.HeapAlloc) / n
				ksmPerObject = float64(ksmBytes) / n
				seriesPerObject = float64(nSeries) / n
				runtime.KeepAlive(s)
			}
			b.ReportMetric(perObject, "heap-B/object")
			b.ReportMetric(ksmPerObject, "ksm-text-B/object")
			b.ReportMetric(seriesPerObject, "series/object")
		})
	}
}

// ksmTextBytes is the size of the series as KSM renders and keeps them: one
// text line per series, a []byte header per family.
func ksmTextBytes(ss []series.Series) int {
	n, families := 0, map[string]bool{}
	for _, s := range ss {
		n += len(s.String()) + 1
		families[s.Labels.Get(series.MetricName)] = true
	}
	return n + 24*len(families)
}

// BenchmarkListHeld reports the heap an initial list of pods holds until the
// reflector hands it to the store, per pod: the decoded objects, as client-go
// keeps them, against their stand-ins with series (generateListWatch).
func BenchmarkListHeld(b *testing.B) {
	const n = 2000
	list := &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}
	for i := range n {
		list.Items = append(list.Items, *realisticPod(i))
	}
	wire, err := list.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	decode := func(context.Context, metav1.ListOptions) (k8sruntime.Object, error) {
		var l v1.PodList
		return &l, l.Unmarshal(wire)
	}
	for _, c := range []struct {
		name string
		lw   *cache.ListWatch
	}{
		{"objects", &cache.ListWatch{ListWithContextFunc: decode}},
		{"generated", generateListWatch(&cache.ListWatch{ListWithContextFunc: decode}, gen, nil)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var perPod float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				held, err := c.lw.ListWithContext(context.Background(), metav1.ListOptions{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perPod = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(held)
			}
			b.ReportMetric(perPod, "held-B/pod")
		})
	}
}
