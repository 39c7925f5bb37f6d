package collectors

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// nodeResource is the nodes resource.
func nodeResource() Resource {
	return &resource[*v1.Node]{
		name:      "nodes",
		newObject: func() *v1.Node { return &v1.Node{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Nodes().List, c.CoreV1().Nodes().Watch)
		},
		objectLabels: func(n *v1.Node) []Label { return []Label{{Name: "node", Value: n.Name}} },
		families:     nodeFamilies,
	}
}

// nodeRolePrefix marks the labels kube_node_role reports, one role per label.
const nodeRolePrefix = "node-role.kubernetes.io/"

func nodeFamilies(o Options) []Family[*v1.Node] {
	return []Family[*v1.Node]{
		// In KSM's order, the order of its headers on /metrics.
		annotationsFamily[*v1.Node]("node", Alpha, o.AllowAnnotations),
		createdFamily[*v1.Node]("node", Stable),
		deletionTimestampFamily[*v1.Node]("node", Alpha),
		{
			Name: "kube_node_info", Help: "Information about a cluster node.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric {
				// internal_ip predates kube_node_status_addresses and keeps KSM's
				// choice: the last InternalIP, so the IPv6 one on a dual-stack node
				// that lists IPv4 first.
				internalIP := ""
				for _, a := range n.Status.Addresses {
					if a.Type == v1.NodeInternalIP {
						internalIP = a.Address
					}
				}
				info := n.Status.NodeInfo
				return []Metric{m(1,
					"kernel_version", info.KernelVersion,
					"os_image", info.OSImage,
					"container_runtime_version", info.ContainerRuntimeVersion,
					"kubelet_version", info.KubeletVersion,
					// KSM stopped reading nodeInfo.kubeProxyVersion (deprecated by
					// KEP-4004) and writes this literal instead.
					"kubeproxy_version", "deprecated",
					"provider_id", n.Spec.ProviderID,
					"pod_cidr", n.Spec.PodCIDR,
					"system_uuid", info.SystemUUID,
					"internal_ip", internalIP,
				)}
			},
		},
		labelsFamily[*v1.Node]("node", Stable, o.AllowLabels),
		{
			Name: "kube_node_role", Help: "The role of a cluster node.", Type: Gauge, Stability: Alpha,
			Gen: func(n *v1.Node) []Metric {
				var out []Metric
				for k := range n.Labels {
					if role, ok := strings.CutPrefix(k, nodeRolePrefix); ok {
						out = append(out, m(1, "role", role))
					}
				}
				return out
			},
		},
		{
			// Added in KSM v2.20 (#3011); the HELP wording is ours, as no v2.20 source was at hand.
			Name: "kube_node_spec_pod_cidrs", Help: "The pod CIDRs of a cluster node.", Type: Gauge, Stability: Alpha,
			Gen: func(n *v1.Node) []Metric {
				out := make([]Metric, 0, len(n.Spec.PodCIDRs))
				for _, c := range n.Spec.PodCIDRs {
					out = append(out, m(1, "pod_cidr", c))
				}
				return out
			},
		},
		{
			Name: "kube_node_spec_taint", Help: "The taint of a cluster node.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric {
				out := make([]Metric, 0, len(n.Spec.Taints))
				for _, t := range n.Spec.Taints {
					out = append(out, m(1, "key", t.Key, "value", t.Value, "effect", string(t.Effect)))
				}
				return out
			},
		},
		{
			Name: "kube_node_spec_unschedulable", Help: "Whether a node can schedule new pods.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric { return one(boolFloat(n.Spec.Unschedulable)) },
		},
		{
			Name: "kube_node_status_allocatable", Help: "The allocatable for different resources of a node that are available for scheduling.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric { return resourceMetrics(n.Status.Allocatable, nodeResources) },
		},
		{
			Name: "kube_node_status_capacity", Help: "The capacity for different resources of a node.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric { return resourceMetrics(n.Status.Capacity, nodeResources) },
		},
		{
			Name: "kube_node_status_condition", Help: "The condition of a cluster node.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Node) []Metric {
				out := make([]Metric, 0, 3*len(n.Status.Conditions))
				for _, c := range n.Status.Conditions {
					out = append(out, conditionMetrics("status", c.Status, "condition", string(c.Type))...)
				}
				return out
			},
		},
		{
			Name: "kube_node_status_addresses", Help: "Node address information.", Type: Gauge, Stability: Alpha,
			Gen: func(n *v1.Node) []Metric {
				out := make([]Metric, 0, len(n.Status.Addresses))
				for _, a := range n.Status.Addresses {
					out = append(out, m(1, "type", string(a.Type), "address", a.Address))
				}
				return out
			},
		},
	}
}
