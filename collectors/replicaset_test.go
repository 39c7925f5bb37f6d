package collectors

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReplicaSetGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "replicasets", []goldenCase{
		{name: "owned-by-deployment", obj: &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d4b9c", Namespace: "ns1", UID: "r1", CreationTimestamp: created, Generation: 3,
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: new(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(5))},
			Status: appsv1.ReplicaSetStatus{
				Replicas: 6, FullyLabeledReplicas: 5, ReadyReplicas: 4, AvailableReplicas: 4,
				TerminatingReplicas: new(int32(1)), ObservedGeneration: 2,
			},
		}},
		{name: "several-owners", obj: &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "ns2", UID: "r2", CreationTimestamp: created,
				OwnerReferences: []metav1.OwnerReference{
					{Kind: "Deployment", Name: "a", Controller: new(true)},
					{Kind: "Rollout", Name: "b", Controller: new(false)},
					{Kind: "HelmRelease", Name: "c"}, // nil Controller is "false"
				}},
			Spec:   appsv1.ReplicaSetSpec{Replicas: new(int32(0))},
			Status: appsv1.ReplicaSetStatus{TerminatingReplicas: new(int32(0)), ObservedGeneration: 1},
		}},
		// ReplicaSets have no deletion-timestamp family in KSM.
		{name: "deleting-with-allowlists", obj: &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "api-5f6d", Namespace: "ns1", UID: "r3", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 1,
				Labels:      map[string]string{"app": "api", "pod-template-hash": "5f6d"},
				Annotations: map[string]string{"app": "api", "deployment.kubernetes.io/revision": "2"}},
			Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(2))},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		{name: "allowlist-without-matches", obj: &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns1", UID: "r4",
				Labels: map[string]string{"other": "no"}},
		}, opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"owner"}}},
		// No owner: one owner series with only the object's labels. No
		// replicas and no terminating count: no series for them.
		{name: "empty", obj: &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "r5"}}},
	})
}
