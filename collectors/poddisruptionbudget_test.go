package collectors

import (
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestPodDisruptionBudgetGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "poddisruptionbudgets", []goldenCase{
		{name: "healthy", obj: &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "pdb1", CreationTimestamp: created, Generation: 21},
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromString("50%"))},
			Status: policyv1.PodDisruptionBudgetStatus{
				CurrentHealthy: 12, DesiredHealthy: 10, DisruptionsAllowed: 2, ExpectedPods: 13, ObservedGeneration: 21,
			},
		}},
		{name: "blocked-deleting", obj: &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns2", UID: "pdb2", CreationTimestamp: created,
				DeletionTimestamp: &deleted},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: new(intstr.FromInt32(0))},
			Status: policyv1.PodDisruptionBudgetStatus{
				CurrentHealthy: 2, DesiredHealthy: 3, DisruptionsAllowed: 0, ExpectedPods: 3, ObservedGeneration: 4,
			},
		}},
		{name: "allowlists", obj: &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "pdb3",
				Labels:      map[string]string{"app": "web", "team": "a"},
				Annotations: map[string]string{"owner": "me"}},
		}, opts: Options{AllowLabels: []string{"app"}, AllowAnnotations: []string{"*"}}},
		// Status counters are always present, 0 before the controller has run.
		{name: "empty", obj: &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "pdb4"}}},
	})
}
