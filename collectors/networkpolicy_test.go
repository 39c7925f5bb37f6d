package collectors

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNetworkPolicyGolden(t *testing.T) {
	runGolden(t, "networkpolicies", []goldenCase{
		{name: "rules", obj: &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "np1", Namespace: "ns1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}, {}},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
			},
		}},
		// No creation timestamp: kube_networkpolicy_created is still emitted, with
		// the Unix time of Go's zero time; no rules: both counts are 0.
		{name: "zero-created-no-rules", obj: &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "np2", Namespace: "ns1", UID: "u2"},
		}},
		{name: "allowlists", obj: &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "np3", Namespace: "ns2", UID: "u3", CreationTimestamp: metav1.Unix(1501569018, 0),
				Labels:      map[string]string{"app": "db", "tier": "backend"},
				Annotations: map[string]string{"app": "db", "note": "x"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
