package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReplicationControllerGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "replicationcontrollers", []goldenCase{
		{name: "owned", obj: &v1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "ns1", UID: "c1", CreationTimestamp: created, Generation: 4,
				OwnerReferences: []metav1.OwnerReference{{Kind: "DeploymentConfig", Name: "frontend", Controller: new(true)}}},
			Spec: v1.ReplicationControllerSpec{Replicas: new(int32(3))},
			Status: v1.ReplicationControllerStatus{
				Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4,
			},
		}},
		{name: "several-owners", obj: &v1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "ns2", UID: "c2", CreationTimestamp: created,
				OwnerReferences: []metav1.OwnerReference{
					{Kind: "Application", Name: "a", Controller: new(false)},
					{Kind: "HelmRelease", Name: "b"}, // nil Controller is "false"
				}},
			Spec: v1.ReplicationControllerSpec{Replicas: new(int32(0))},
		}},
		// ReplicationControllers have no labels, annotations or deletion-timestamp
		// families in KSM, whatever the allowlists say.
		{name: "deleting-with-allowlists", obj: &v1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "ns1", UID: "c3", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 2,
				Labels:      map[string]string{"app": "old"},
				Annotations: map[string]string{"app": "old"}},
			Spec:   v1.ReplicationControllerSpec{Replicas: new(int32(1))},
			Status: v1.ReplicationControllerStatus{Replicas: 1, ObservedGeneration: 2},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		// No owner: one owner series with only the object's labels. No replicas:
		// no spec series.
		{name: "empty", obj: &v1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "c4"}}},
	})
}
