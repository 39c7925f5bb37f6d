package collectors

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// networkPolicyResource is the networkpolicies resource.
func networkPolicyResource() Resource {
	return &resource[*networkingv1.NetworkPolicy]{
		name:       "networkpolicies",
		namespaced: true,
		newObject:  func() *networkingv1.NetworkPolicy { return &networkingv1.NetworkPolicy{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.NetworkingV1().NetworkPolicies(ns).List, c.NetworkingV1().NetworkPolicies(ns).Watch)
		},
		objectLabels: func(n *networkingv1.NetworkPolicy) []Label {
			return []Label{{Name: "namespace", Value: n.Namespace}, {Name: "networkpolicy", Value: n.Name}}
		},
		families: networkPolicyFamilies,
	}
}

func networkPolicyFamilies(o Options) []Family[*networkingv1.NetworkPolicy] {
	return []Family[*networkingv1.NetworkPolicy]{
		{
			Name: "kube_networkpolicy_created", Help: "Unix creation timestamp of network policy", Type: Gauge, Stability: Alpha,
			// Unlike every other *_created family, KSM emits this one for an unset
			// timestamp too: the Unix time of Go's zero time, -62135596800.
			Gen: func(n *networkingv1.NetworkPolicy) []Metric { return one(float64(n.CreationTimestamp.Unix())) },
		},
		annotationsFamily[*networkingv1.NetworkPolicy]("networkpolicy", Alpha, o.AllowAnnotations),
		labelsFamily[*networkingv1.NetworkPolicy]("networkpolicy", Alpha, o.AllowLabels),
		{
			Name: "kube_networkpolicy_spec_ingress_rules", Help: "Number of ingress rules on the networkpolicy", Type: Gauge, Stability: Alpha,
			Gen: func(n *networkingv1.NetworkPolicy) []Metric { return one(float64(len(n.Spec.Ingress))) },
		},
		{
			Name: "kube_networkpolicy_spec_egress_rules", Help: "Number of egress rules on the networkpolicy", Type: Gauge, Stability: Alpha,
			Gen: func(n *networkingv1.NetworkPolicy) []Metric { return one(float64(len(n.Spec.Egress))) },
		},
	}
}
