package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPersistentVolumeClaimGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "persistentvolumeclaims", []goldenCase{
		{name: "bound-resizing", obj: &v1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "data-db-0", Namespace: "ns1", UID: "pvc1", CreationTimestamp: created},
			Spec: v1.PersistentVolumeClaimSpec{
				StorageClassName: new("fast"),
				VolumeName:       "pv-csi",
				VolumeMode:       new(v1.PersistentVolumeBlock),
				AccessModes:      []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce, v1.ReadWriteOncePod},
				Resources: v1.VolumeResourceRequirements{Requests: v1.ResourceList{
					v1.ResourceStorage: apiresource.MustParse("10Gi"),
				}},
			},
			Status: v1.PersistentVolumeClaimStatus{
				Phase: v1.ClaimBound,
				Conditions: []v1.PersistentVolumeClaimCondition{
					{Type: v1.PersistentVolumeClaimResizing, Status: v1.ConditionTrue},
					{Type: v1.PersistentVolumeClaimFileSystemResizePending, Status: v1.ConditionFalse},
					{Type: "Unused", Status: v1.ConditionUnknown},
				},
			},
		}},
		// The deprecated beta annotation wins over spec.storageClassName.
		{name: "beta-storage-class-annotation", obj: &v1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "ns1", UID: "pvc2", CreationTimestamp: created,
				Annotations: map[string]string{v1.BetaStorageClassAnnotation: "old-class"}},
			Spec: v1.PersistentVolumeClaimSpec{
				StorageClassName: new("new-class"),
				VolumeMode:       new(v1.PersistentVolumeFilesystem),
				AccessModes:      []v1.PersistentVolumeAccessMode{v1.ReadWriteMany},
				Resources: v1.VolumeResourceRequirements{Requests: v1.ResourceList{
					v1.ResourceStorage: apiresource.MustParse("1500M"),
				}},
			},
			Status: v1.PersistentVolumeClaimStatus{Phase: v1.ClaimPending},
		}},
		// No class, volume or mode: the info labels are empty, and without a
		// storage request there is no requests series.
		{name: "lost-deleting-without-class", obj: &v1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "ns2", UID: "pvc3", CreationTimestamp: created,
				DeletionTimestamp: &deleted},
			Spec: v1.PersistentVolumeClaimSpec{
				AccessModes: []v1.PersistentVolumeAccessMode{v1.ReadOnlyMany},
				Resources: v1.VolumeResourceRequirements{Requests: v1.ResourceList{
					v1.ResourceCPU: apiresource.MustParse("1"),
				}},
			},
			Status: v1.PersistentVolumeClaimStatus{Phase: v1.ClaimLost},
		}},
		{name: "allowlists", obj: &v1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "pvc4",
				Labels:      map[string]string{"app.kubernetes.io/name": "db", "team": "a"},
				Annotations: map[string]string{"volume.kubernetes.io/selected-node": "node-1", "owner": "me"}},
			Spec: v1.PersistentVolumeClaimSpec{StorageClassName: new("")},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"volume.kubernetes.io/*"}}},
		// Without a phase there are no phase series at all.
		{name: "empty", obj: &v1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "pvc5"}}},
	})
}
