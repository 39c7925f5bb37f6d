package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "nodes", []goldenCase{
		{name: "full", obj: &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "n1", CreationTimestamp: created,
				Labels: map[string]string{
					"node-role.kubernetes.io/control-plane": "",
					"node-role.kubernetes.io/worker":        "true",
					"kubernetes.io/role":                    "master", // not a role label for KSM
					"kubernetes.io/hostname":                "node-1",
				}},
			Spec: v1.NodeSpec{
				PodCIDR:       "10.244.1.0/24",
				PodCIDRs:      []string{"10.244.1.0/24", "fd00:10:244:1::/64"},
				ProviderID:    "aws:///eu-west-1a/i-0123456789abcdef0",
				Unschedulable: true,
				Taints: []v1.Taint{
					{Key: "node-role.kubernetes.io/control-plane", Effect: v1.TaintEffectNoSchedule},
					{Key: "dedicated", Value: "gpu", Effect: v1.TaintEffectPreferNoSchedule},
					{Key: "node.kubernetes.io/unreachable", Effect: v1.TaintEffectNoExecute, TimeAdded: &created},
				},
			},
			Status: v1.NodeStatus{
				Addresses: []v1.NodeAddress{
					{Type: v1.NodeInternalIP, Address: "10.0.0.5"},
					{Type: v1.NodeExternalIP, Address: "203.0.113.7"},
					{Type: v1.NodeHostName, Address: "node-1"},
					{Type: v1.NodeInternalDNS, Address: "node-1.eu-west-1.compute.internal"},
					{Type: v1.NodeInternalIP, Address: "fd00::5"}, // the last InternalIP is internal_ip
				},
				Capacity: v1.ResourceList{
					v1.ResourceCPU:               apiresource.MustParse("4"),
					v1.ResourceMemory:            apiresource.MustParse("16Gi"),
					v1.ResourcePods:              apiresource.MustParse("110"),
					v1.ResourceEphemeralStorage:  apiresource.MustParse("100Gi"),
					"hugepages-2Mi":              apiresource.MustParse("1Gi"),
					"hugepages-1Gi":              apiresource.MustParse("0"),
					"nvidia.com/gpu":             apiresource.MustParse("2"),
					"attachable-volumes-aws-ebs": apiresource.MustParse("25"),
				},
				Allocatable: v1.ResourceList{
					v1.ResourceCPU:               apiresource.MustParse("3920m"),
					v1.ResourceMemory:            apiresource.MustParse("15Gi"),
					v1.ResourcePods:              apiresource.MustParse("110"),
					v1.ResourceEphemeralStorage:  apiresource.MustParse("95Gi"),
					"hugepages-2Mi":              apiresource.MustParse("1Gi"),
					"hugepages-1Gi":              apiresource.MustParse("0"),
					"nvidia.com/gpu":             apiresource.MustParse("2"),
					"attachable-volumes-aws-ebs": apiresource.MustParse("25"),
				},
				Conditions: []v1.NodeCondition{
					{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady"},
					{Type: v1.NodeMemoryPressure, Status: v1.ConditionFalse},
					{Type: "KernelDeadlock", Status: v1.ConditionUnknown}, // node-problem-detector
				},
				NodeInfo: v1.NodeSystemInfo{
					KernelVersion:           "6.1.0-18-cloud-amd64",
					OSImage:                 "Debian GNU/Linux 12 (bookworm)",
					ContainerRuntimeVersion: "containerd://2.0.2",
					KubeletVersion:          "v1.33.1",
					KubeProxyVersion:        "v1.33.1", // never reported: kubeproxy_version is "deprecated"
					SystemUUID:              "ec2e1c5c-7d0c-4a7a-9e59-4b4b0c2f1e55",
				},
			},
		}},
		{name: "deleting-with-allowlists", obj: &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-2", UID: "n2", CreationTimestamp: created, DeletionTimestamp: &deleted,
				Labels:      map[string]string{"topology.kubernetes.io/zone": "eu-west-1a", "node.kubernetes.io/instance-type": "m5.large"},
				Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
			Status: v1.NodeStatus{
				Addresses: []v1.NodeAddress{{Type: v1.NodeHostName, Address: "node-2"}},
				Conditions: []v1.NodeCondition{
					{Type: v1.NodeReady, Status: v1.ConditionFalse, Reason: "KubeletNotReady"},
					{Type: v1.NodeMemoryPressure, Status: v1.ConditionTrue},
				},
			},
		}, opts: Options{AllowLabels: []string{"topology.kubernetes.io/*"}, AllowAnnotations: []string{"node.alpha.kubernetes.io/ttl"}}},
		{name: "resource-edge-cases", obj: &v1.Node{
			// A bare prefix gives an empty role, which drops the label (KSM writes role="").
			ObjectMeta: metav1.ObjectMeta{Name: "node-3", UID: "n3", Labels: map[string]string{"node-role.kubernetes.io/": ""}},
			Status: v1.NodeStatus{
				Capacity: v1.ResourceList{
					v1.ResourceCPU:     apiresource.MustParse("500m"),
					v1.ResourceStorage: apiresource.MustParse("1G"),
					// KSM's node store takes MilliValue()/1000: 1.5 where Value() gives 2.
					"example.com/fractional": apiresource.MustParse("1500m"),
					// Neither known nor extended: KSM's node store skips them.
					"foo":                    apiresource.MustParse("1"),
					"kubernetes.io/foo":      apiresource.MustParse("1"),
					"requests.example.com/x": apiresource.MustParse("1"),
				},
			},
		}},
		{name: "bare", obj: &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-4", UID: "n4"}}},
	})
}

func BenchmarkNodeGenerate(b *testing.B) {
	rs, err := Lookup([]string{"nodes"})
	if err != nil {
		b.Fatal(err)
	}
	g := rs[0].NewGenerator(Options{AllowLabels: []string{"topology.kubernetes.io/zone"}})
	resources := v1.ResourceList{
		v1.ResourceCPU:              apiresource.MustParse("4"),
		v1.ResourceMemory:           apiresource.MustParse("16Gi"),
		v1.ResourcePods:             apiresource.MustParse("110"),
		v1.ResourceEphemeralStorage: apiresource.MustParse("100Gi"),
		"hugepages-2Mi":             apiresource.MustParse("0"),
		"hugepages-1Gi":             apiresource.MustParse("0"),
	}
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "n1", CreationTimestamp: metav1.Unix(1501569018, 0),
			Labels: map[string]string{
				"node-role.kubernetes.io/worker": "", "topology.kubernetes.io/zone": "eu-west-1a",
				"kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			}},
		Spec: v1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}, ProviderID: "aws:///eu-west-1a/i-1"},
		Status: v1.NodeStatus{
			Addresses: []v1.NodeAddress{
				{Type: v1.NodeInternalIP, Address: "10.0.0.5"},
				{Type: v1.NodeHostName, Address: "node-1"},
				{Type: v1.NodeInternalDNS, Address: "node-1.eu-west-1.compute.internal"},
			},
			Capacity:    resources,
			Allocatable: resources,
			Conditions: []v1.NodeCondition{
				{Type: v1.NodeReady, Status: v1.ConditionTrue},
				{Type: v1.NodeMemoryPressure, Status: v1.ConditionFalse},
				{Type: v1.NodeDiskPressure, Status: v1.ConditionFalse},
				{Type: v1.NodePIDPressure, Status: v1.ConditionFalse},
			},
			NodeInfo: v1.NodeSystemInfo{KernelVersion: "6.1.0", OSImage: "Debian 12", ContainerRuntimeVersion: "containerd://2.0.2",
				KubeletVersion: "v1.33.1", SystemUUID: "ec2e1c5c"},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Generate(n); !ok {
			b.Fatal("generator refused node")
		}
	}
}
