package agent

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

type discard struct{ n int }

func (d *discard) Append(ss []series.Sample) { d.n += len(ss) }

func benchPod(i int, phase v1.PodPhase) *v1.Pod {
	res := v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("256Mi")},
	}
	ctrl := true
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default", Name: fmt.Sprintf("web-%d", i), UID: "uid", ResourceVersion: "1",
			CreationTimestamp: metav1.Unix(1700000000, 0),
			Labels:            map[string]string{"app": "web", "tier": "fe", "team": "a", "env": "prod", "version": "v1"},
			OwnerReferences:   []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc", Controller: &ctrl}},
		},
		Spec: v1.PodSpec{NodeName: "node-1", Containers: []v1.Container{
			{Name: "app", Image: "app:1", Resources: res}, {Name: "proxy", Image: "proxy:1", Resources: res},
		}},
		Status: v1.PodStatus{Phase: phase, QOSClass: v1.PodQOSBurstable, ContainerStatuses: []v1.ContainerStatus{
			{Name: "app", Ready: phase == v1.PodRunning, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}},
			{Name: "proxy", Ready: phase == v1.PodRunning, State: v1.ContainerState{Running: &v1.ContainerStateRunning{}}},
		}},
	}
}

// BenchmarkSnapshotUpdate measures one pod update event through the snapshot:
// generate the pod's series and diff them against the stored ones.
func BenchmarkSnapshotUpdate(b *testing.B) {
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	d := &discard{}
	s := NewSnapshot(d, newMetrics(nil, func() float64 { return 0 }))
	set := s.newSet("pods", counterFamilies(rs[0]))
	pods := []*v1.Pod{benchPod(0, v1.PodPending), benchPod(0, v1.PodRunning)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		o, _ := gen.Generate(pods[i%2])
		s.apply(set, o)
		i++
	}
	b.ReportMetric(float64(d.n)/float64(b.N), "samples/op")
}
