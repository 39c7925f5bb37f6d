package collectors

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podT0 is the base of every timestamp in the pod cases.
const podT0 = 1501569018

func podTime(offset int64) metav1.Time { return metav1.Unix(podT0+offset, 0) }

func podTimePtr(offset int64) *metav1.Time { t := podTime(offset); return &t }

func podPtr[T any](v T) *T { return &v }

func podResourceList(kv ...string) v1.ResourceList {
	rl := v1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		rl[v1.ResourceName(kv[i])] = apiresource.MustParse(kv[i+1])
	}
	return rl
}

func podRunning(offset int64) v1.ContainerState {
	return v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: podTime(offset)}}
}

func podTerminated(reason string, exitCode int32, started, finished int64) v1.ContainerState {
	return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
		Reason: reason, ExitCode: exitCode, StartedAt: podTime(started), FinishedAt: podTime(finished),
	}}
}

func podWaiting(reason string) v1.ContainerState {
	return v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason}}
}

func podCondition(t v1.PodConditionType, s v1.ConditionStatus, reason string, offset int64) v1.PodCondition {
	return v1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: podTime(offset)}
}

// runningPod is a realistic Deployment pod: two containers with requests and
// limits, a ReplicaSet owner and five labels.
func runningPod() *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-7d9f8c6b5-x2x8q", Namespace: "shop", UID: "uid-running", CreationTimestamp: podTime(0),
			Labels: map[string]string{
				"app": "web", "app.kubernetes.io/name": "web", "pod-template-hash": "7d9f8c6b5",
				"team": "payments", "tier": "frontend",
			},
			Annotations: map[string]string{"prometheus.io/scrape": "true"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8c6b5", Controller: podPtr(true)},
			},
		},
		Spec: v1.PodSpec{
			NodeName: "node-1", ServiceAccountName: "web", SchedulerName: "default-scheduler",
			PriorityClassName: "high-priority", HostNetwork: true, RuntimeClassName: podPtr("gvisor"),
			RestartPolicy: v1.RestartPolicyAlways,
			Overhead:      podResourceList("cpu", "250m", "memory", "120Mi"),
			Tolerations: []v1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: podPtr(int64(300))},
				{Key: "node.kubernetes.io/unreachable", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: podPtr(int64(300))},
				{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: podPtr(int64(300))},
				{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "web", Effect: v1.TaintEffectNoSchedule},
			},
			Volumes: []v1.Volume{
				{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "web-data", ReadOnly: true}}},
				{Name: "scratch", VolumeSource: v1.VolumeSource{Ephemeral: &v1.EphemeralVolumeSource{}}},
				{Name: "config", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "web-config"}}}},
			},
			ResourceClaims: []v1.PodResourceClaim{
				{Name: "gpu", ResourceClaimTemplateName: podPtr("gpu-template")},
				{Name: "fpga", ResourceClaimName: podPtr("shared-fpga")},
				{Name: "pending", ResourceClaimTemplateName: podPtr("pending-template")},
				{Name: "neither"},
			},
			Containers: []v1.Container{
				{
					Name: "app", Image: "registry.example.com/web:1.4.2",
					Resources: v1.ResourceRequirements{
						Requests: podResourceList("cpu", "250m", "memory", "256Mi", "ephemeral-storage", "1Gi", "nvidia.com/gpu", "1", "hugepages-2Mi", "64Mi"),
						Limits:   podResourceList("cpu", "1", "memory", "512Mi", "ephemeral-storage", "2Gi", "nvidia.com/gpu", "1", "hugepages-2Mi", "64Mi"),
					},
				},
				{
					Name: "log-shipper", Image: "fluent/fluent-bit:3.0",
					Resources: v1.ResourceRequirements{
						Requests: podResourceList("cpu", "10m", "memory", "32Mi"),
						Limits:   podResourceList("cpu", "100m", "memory", "64Mi"),
					},
				},
			},
		},
		Status: v1.PodStatus{
			Phase: v1.PodRunning, QOSClass: v1.PodQOSBurstable,
			HostIP: "10.0.0.11", PodIP: "10.244.1.7",
			PodIPs:    []v1.PodIP{{IP: "10.244.1.7"}, {IP: "fd00:10:244:1::7"}, {IP: "not-an-ip"}},
			StartTime: podTimePtr(5),
			Conditions: []v1.PodCondition{
				podCondition(v1.PodInitialized, v1.ConditionTrue, "", 6),
				podCondition(v1.PodReady, v1.ConditionTrue, "", 20),
				podCondition(v1.ContainersReady, v1.ConditionTrue, "", 20),
				podCondition(v1.PodScheduled, v1.ConditionTrue, "", 1),
			},
			ContainerStatuses: []v1.ContainerStatus{
				{
					Name: "app", Ready: true, RestartCount: 2, State: podRunning(15),
					LastTerminationState: podTerminated("Error", 1, 10, 14),
					Image:                "registry.example.com/web:1.4.2", ImageID: "registry.example.com/web@sha256:aaaa",
					ContainerID: "containerd://1111",
				},
				{
					Name: "log-shipper", Ready: true, State: podRunning(12),
					Image: "docker.io/fluent/fluent-bit:3.0", ImageID: "docker.io/fluent/fluent-bit@sha256:bbbb",
					ContainerID: "containerd://2222",
				},
			},
			ResourceClaimStatuses: []v1.PodResourceClaimStatus{
				{Name: "gpu", ResourceClaimName: podPtr("web-7d9f8c6b5-x2x8q-gpu-abc12")},
			},
		},
	}
}

func TestPodGolden(t *testing.T) {
	runGolden(t, "pods", []goldenCase{
		{name: "running", obj: runningPod()},
		{name: "pending-unscheduled", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "batch-pending", Namespace: "jobs", UID: "uid-pending", CreationTimestamp: podTime(0)},
			Spec: v1.PodSpec{
				ServiceAccountName: "default", SchedulerName: "default-scheduler", RestartPolicy: v1.RestartPolicyNever,
				Containers: []v1.Container{{Name: "worker", Image: "busybox:1.36", Resources: v1.ResourceRequirements{
					Requests: podResourceList("cpu", "64", "memory", "1Ti"),
				}}},
			},
			Status: v1.PodStatus{
				Phase: v1.PodPending, QOSClass: v1.PodQOSBurstable,
				Conditions: []v1.PodCondition{podCondition(v1.PodScheduled, v1.ConditionFalse, v1.PodReasonUnschedulable, 2)},
			},
		}},
		{name: "crashloop-oomkilled", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "api-0", Namespace: "shop", UID: "uid-crash", CreationTimestamp: podTime(0),
				OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: "api", Controller: podPtr(true)}}},
			Spec: v1.PodSpec{
				NodeName: "node-2", RestartPolicy: v1.RestartPolicyAlways,
				Containers: []v1.Container{
					{Name: "api", Image: "api:2", Resources: v1.ResourceRequirements{
						Requests: podResourceList("memory", "128Mi"), Limits: podResourceList("memory", "128Mi"),
					}},
					{Name: "metrics", Image: "exporter:1"},
				},
			},
			Status: v1.PodStatus{
				Phase: v1.PodRunning, QOSClass: v1.PodQOSBurstable, HostIP: "10.0.0.12", PodIP: "10.244.2.9",
				StartTime: podTimePtr(3),
				Conditions: []v1.PodCondition{
					podCondition(v1.PodInitialized, v1.ConditionTrue, "", 4),
					podCondition(v1.PodReady, v1.ConditionFalse, "ContainersNotReady", 161),
					podCondition(v1.ContainersReady, v1.ConditionFalse, "ContainersNotReady", 161),
					podCondition(v1.PodScheduled, v1.ConditionTrue, "", 1),
				},
				ContainerStatuses: []v1.ContainerStatus{
					{Name: "api", RestartCount: 5, State: podWaiting("CrashLoopBackOff"),
						LastTerminationState: podTerminated("OOMKilled", 137, 100, 160),
						Image:                "docker.io/library/api:2", ImageID: "docker.io/library/api@sha256:cccc", ContainerID: "containerd://3333"},
					// A kubelet that lost the container reports a last state without timestamps.
					{Name: "metrics", Ready: true, RestartCount: 1, State: podRunning(170),
						LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{Reason: "ContainerStatusUnknown", ExitCode: 137}},
						Image:                "docker.io/library/exporter:1", ImageID: "docker.io/library/exporter@sha256:dddd", ContainerID: "containerd://4444"},
				},
			},
		}},
		{name: "completed", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "migrate-x7k2p", Namespace: "jobs", UID: "uid-completed", CreationTimestamp: podTime(0),
				OwnerReferences: []metav1.OwnerReference{{Kind: "Job", Name: "migrate", Controller: podPtr(true)}}},
			Spec: v1.PodSpec{
				NodeName: "node-1", RestartPolicy: v1.RestartPolicyNever,
				Containers: []v1.Container{{Name: "migrate", Image: "migrate:7"}, {Name: "notify", Image: "notify:1"}},
			},
			Status: v1.PodStatus{
				Phase: v1.PodSucceeded, QOSClass: v1.PodQOSBestEffort, HostIP: "10.0.0.11", StartTime: podTimePtr(5),
				Conditions: []v1.PodCondition{
					podCondition(v1.PodInitialized, v1.ConditionTrue, "PodCompleted", 6),
					podCondition(v1.PodReady, v1.ConditionFalse, "PodCompleted", 96),
					podCondition(v1.ContainersReady, v1.ConditionFalse, "PodCompleted", 96),
					podCondition(v1.PodScheduled, v1.ConditionTrue, "", 1),
				},
				ContainerStatuses: []v1.ContainerStatus{
					{Name: "migrate", State: podTerminated("Completed", 0, 10, 95), Image: "migrate:7", ImageID: "migrate@sha256:eeee", ContainerID: "containerd://5555"},
					{Name: "notify", State: podTerminated("Completed", 0, 11, 70), Image: "notify:1", ImageID: "notify@sha256:ffff", ContainerID: "containerd://6666"},
				},
			},
		}},
		{name: "evicted", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "cache-5f4d-abcde", Namespace: "shop", UID: "uid-evicted", CreationTimestamp: podTime(0)},
			Spec:       v1.PodSpec{NodeName: "node-3", Containers: []v1.Container{{Name: "cache", Image: "redis:7"}}},
			Status: v1.PodStatus{
				Phase: v1.PodFailed, Reason: "Evicted", Message: "The node was low on resource: memory.",
				Conditions: []v1.PodCondition{
					podCondition(v1.DisruptionTarget, v1.ConditionTrue, v1.PodReasonTerminationByKubelet, 300),
					podCondition(v1.PodReady, v1.ConditionFalse, "PodFailed", 301),
				},
				ContainerStatuses: []v1.ContainerStatus{{Name: "cache", State: podTerminated("Error", 137, 10, 301), Image: "redis:7"}},
			},
		}},
		{name: "unknown-status-reason", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "greedy", Namespace: "shop", UID: "uid-outofcpu"},
			Status:     v1.PodStatus{Phase: v1.PodFailed, Reason: "OutOfcpu", Message: "Pod was rejected: Node didn't have enough resource: cpu"},
		}},
		{name: "status-reason-sources", obj: &v1.Pod{
			// Known reasons count wherever they appear; unknown ones only as status.reason.
			ObjectMeta: metav1.ObjectMeta{Name: "gated", Namespace: "shop", UID: "uid-sources"},
			Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "a"}, {Name: "b"}}},
			Status: v1.PodStatus{
				Conditions: []v1.PodCondition{podCondition(v1.PodScheduled, v1.ConditionFalse, v1.PodReasonSchedulingGated, 2)},
				ContainerStatuses: []v1.ContainerStatus{
					{Name: "a", State: podTerminated("Shutdown", 0, 3, 4)},
					{Name: "b", State: podWaiting("ContainerCreating"), LastTerminationState: podTerminated("NodeLost", 0, 1, 2)},
				},
			},
		}},
		{name: "disruption-target", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "drained", Namespace: "shop", UID: "uid-drained", DeletionTimestamp: podTimePtr(400)},
			Status: v1.PodStatus{Phase: v1.PodRunning, Conditions: []v1.PodCondition{
				podCondition(v1.DisruptionTarget, v1.ConditionTrue, "EvictionByEvictionAPI", 399),
			}},
		}},
		{name: "disruption-target-unknown-reason", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "disrupted", Namespace: "shop", UID: "uid-disrupted"},
			Status: v1.PodStatus{Phase: v1.PodRunning, Conditions: []v1.PodCondition{
				podCondition(v1.DisruptionTarget, v1.ConditionTrue, "DeletionByFutureController", 399),
			}},
		}},
		{name: "init-containers-sidecar-deleting", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-sidecar", Namespace: "shop", UID: "uid-init", CreationTimestamp: podTime(0),
				DeletionTimestamp: podTimePtr(500)},
			Spec: v1.PodSpec{
				NodeName: "node-2",
				InitContainers: []v1.Container{
					{Name: "setup", Image: "setup:1", Resources: v1.ResourceRequirements{Requests: podResourceList("cpu", "100m")}},
					{Name: "proxy", Image: "envoy:1.30", RestartPolicy: podPtr(v1.ContainerRestartPolicyAlways),
						Resources: v1.ResourceRequirements{Requests: podResourceList("cpu", "50m", "memory", "64Mi"), Limits: podResourceList("memory", "64Mi")}},
				},
				Containers: []v1.Container{{Name: "app", Image: "web:2"}},
			},
			Status: v1.PodStatus{
				Phase: v1.PodPending, QOSClass: v1.PodQOSBurstable, StartTime: podTimePtr(2),
				Conditions: []v1.PodCondition{
					podCondition(v1.PodInitialized, v1.ConditionTrue, "", 30),
					podCondition(v1.PodReady, v1.ConditionFalse, "ContainersNotReady", 30),
					podCondition(v1.PodScheduled, v1.ConditionTrue, "", 1),
				},
				InitContainerStatuses: []v1.ContainerStatus{
					{Name: "setup", RestartCount: 1, State: podTerminated("Completed", 0, 20, 25),
						LastTerminationState: podTerminated("Error", 1, 5, 15),
						Image:                "setup:1", ImageID: "setup@sha256:1111", ContainerID: "containerd://aaaa"},
					{Name: "proxy", Ready: true, Started: podPtr(true), State: podRunning(28),
						Image: "envoy:1.30", ImageID: "envoy@sha256:2222", ContainerID: "containerd://bbbb"},
				},
				ContainerStatuses: []v1.ContainerStatus{{Name: "app", State: podWaiting("PodInitializing"), Image: "web:2"}},
			},
		}},
		{name: "empty-phase", obj: &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default", UID: "uid-bare"}}},
		{name: "pod-ips-edge-cases", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "ips", Namespace: "default", UID: "uid-ips"},
			Status: v1.PodStatus{PodIPs: []v1.PodIP{
				{IP: "10.0.0.1"}, {IP: "::ffff:10.0.0.2"}, {IP: "010.000.000.003"}, {IP: "2001:db8::1"},
				{IP: "fe80::1%eth0"}, {IP: ""}, {IP: "10.0.0.256"}, {IP: "1.2.3"},
			}},
		}},
		{name: "opt-in-and-allowlists", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "selected", Namespace: "default", UID: "uid-selected",
				Labels:      map[string]string{"app": "db", "app.kubernetes.io/name": "postgres", "secret-ish": "no"},
				Annotations: map[string]string{"checksum/config": "abc", "kubernetes.io/description": "a \"quoted\"\nvalue"}},
			Spec: v1.PodSpec{NodeSelector: map[string]string{
				"kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m5.large",
				"disktype": "ssd", "foo-bar": "1", "foo.bar": "2", "fooBar": "3",
			}},
		}, opts: Options{
			AllowLabels:      []string{"app", "app.kubernetes.io/*"},
			AllowAnnotations: []string{"*"},
			Family:           func(FamilyInfo) bool { return true },
		}},
		{name: "opt-in-without-node-selector", obj: &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "unselected", Namespace: "default", UID: "uid-unselected"},
		}, opts: Options{Family: func(f FamilyInfo) bool { return f.Name == "kube_pod_nodeselectors" }}},
	})
}

func BenchmarkPodGenerate(b *testing.B) {
	rs, err := Lookup([]string{"pods"})
	if err != nil {
		b.Fatal(err)
	}
	pod := runningPod()
	g := rs[0].NewGenerator(Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Generate(pod); !ok {
			b.Fatal("generator refused the pod")
		}
	}
}

// The pod's restart counters start at the pod's creation: Object.Start is
// metadata.creationTimestamp in ms, whenever a counter family is enabled.
func TestPodCounterStart(t *testing.T) {
	rs, err := Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	var counters []string
	for _, f := range rs[0].Families() {
		if f.Type == Counter {
			counters = append(counters, f.Name)
		}
	}
	want := []string{"kube_pod_container_status_restarts_total", "kube_pod_init_container_status_restarts_total"}
	if !slices.Equal(counters, want) {
		t.Fatalf("pod counter families %v, want %v", counters, want)
	}
	pod := runningPod()
	pod.Status.StartTime = podTimePtr(5) // not the start: the creation is
	o, ok := rs[0].NewGenerator(Options{}).Generate(pod)
	if !ok {
		t.Fatal("generator refused the pod")
	}
	if want := int64(podT0) * 1000; o.Start != want {
		t.Errorf("Start = %d, want the creation timestamp %d", o.Start, want)
	}
	restarts := 0
	for _, s := range o.Series {
		if s.Labels.Name() == "kube_pod_container_status_restarts_total" {
			restarts++
		}
	}
	if restarts == 0 {
		t.Error("no restart series: the case shows nothing")
	}

	gauges := rs[0].NewGenerator(Options{Family: func(f FamilyInfo) bool { return f.Type == Gauge }})
	if o, _ := gauges.Generate(pod); o.Start != 0 || len(o.Series) == 0 {
		t.Errorf("without counter families: Start = %d with %d series, want 0", o.Start, len(o.Series))
	}
	pod.CreationTimestamp = metav1.Time{}
	if o, _ := rs[0].NewGenerator(Options{}).Generate(pod); o.Start != 0 {
		t.Errorf("without a creation timestamp: Start = %d, want 0", o.Start)
	}
}

// Every resource with a counter family gives its objects a start timestamp.
func TestCounterFamiliesHaveStart(t *testing.T) {
	n := 0
	for _, r := range All() {
		if !slices.ContainsFunc(r.Families(), func(f FamilyInfo) bool { return f.Type == Counter }) {
			continue
		}
		n++
		obj := r.ExpectedType()
		m, err := meta.Accessor(obj)
		if err != nil {
			t.Fatal(err)
		}
		m.SetUID("u")
		m.SetCreationTimestamp(metav1.Unix(1700000000, 0))
		o, ok := r.NewGenerator(Options{Family: func(FamilyInfo) bool { return true }}).Generate(obj)
		if !ok || o.Start != 1700000000000 {
			t.Errorf("%s has counter families and gives Start = %d (ok %v), want 1700000000000", r.Name(), o.Start, ok)
		}
	}
	if n == 0 {
		t.Error("no resource has a counter family")
	}
}
