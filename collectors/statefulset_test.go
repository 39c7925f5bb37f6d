package collectors

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStatefulSetGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "statefulsets", []goldenCase{
		{name: "rolling-update-with-retention-policy", obj: &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns1", UID: "s1", CreationTimestamp: created, Generation: 7,
				// StatefulSets have no owner family in KSM.
				OwnerReferences: []metav1.OwnerReference{{Kind: "Cluster", Name: "pg", Controller: new(true)}}},
			Spec: appsv1.StatefulSetSpec{
				Replicas: new(int32(5)),
				Ordinals: &appsv1.StatefulSetOrdinals{Start: 3},
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
					WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
			},
			Status: appsv1.StatefulSetStatus{
				Replicas: 5, AvailableReplicas: 3, CurrentReplicas: 2, ReadyReplicas: 4, UpdatedReplicas: 3, ObservedGeneration: 6,
				CurrentRevision: "db-5d8f7c", UpdateRevision: "db-7b9c4d",
			},
		}},
		{name: "only-when-scaled-policy", obj: &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "ns1", UID: "s2", CreationTimestamp: created, Generation: 1},
			Spec: appsv1.StatefulSetSpec{
				Replicas: new(int32(0)),                         // scaled to zero: a 0 series, not none
				Ordinals: &appsv1.StatefulSetOrdinals{Start: 0}, // set to the default: still a series
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
				},
			},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, CurrentRevision: "cache-1", UpdateRevision: "cache-1"},
		}},
		{name: "empty-retention-policy", obj: &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "queue", Namespace: "ns2", UID: "s3", CreationTimestamp: created},
			Spec: appsv1.StatefulSetSpec{
				Replicas:                             new(int32(1)),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{},
			},
		}},
		{name: "deleting-with-allowlists", obj: &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "s4", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 2,
				Labels:      map[string]string{"app.kubernetes.io/name": "web", "team": "a"},
				Annotations: map[string]string{"app": "web", "other": "no"}},
			Spec:   appsv1.StatefulSetSpec{Replicas: new(int32(2))},
			Status: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, CurrentRevision: "web-1", UpdateRevision: "web-2"},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		{name: "allowlist-without-matches", obj: &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns1", UID: "s5",
				Labels: map[string]string{"other": "no"}},
		}, opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"owner"}}},
		// No creation time, replicas, ordinals, policy or revisions: the revision
		// families keep one series without a revision label.
		{name: "empty", obj: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "s6"}}},
	})
}
