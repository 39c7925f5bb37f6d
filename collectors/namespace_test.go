package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceGolden(t *testing.T) {
	runGolden(t, "namespaces", []goldenCase{
		{name: "active", obj: &v1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: "ns1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0),
				Labels: map[string]string{"app": "demo"}},
			Status: v1.NamespaceStatus{Phase: v1.NamespaceActive},
		}},
		{name: "terminating-with-conditions-and-allowlists", obj: &v1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: "ns2", UID: "u2",
				Labels:      map[string]string{"app.kubernetes.io/name": "x", "team": "a", "other": "no"},
				Annotations: map[string]string{"owner": "me"}},
			Status: v1.NamespaceStatus{Phase: v1.NamespaceTerminating, Conditions: []v1.NamespaceCondition{
				{Type: v1.NamespaceDeletionContentFailure, Status: v1.ConditionTrue},
				{Type: v1.NamespaceDeletionDiscoveryFailure, Status: v1.ConditionUnknown},
			}},
		}, opts: Options{AllowLabels: []string{"app.kubernetes.io/*", "team"}, AllowAnnotations: []string{"*"}}},
		{name: "no-phase", obj: &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns3", UID: "u3"}}},
	})
}
