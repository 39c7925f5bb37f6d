package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStorageClassGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "storageclasses", []goldenCase{
		{name: "defaults", obj: &storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: "standard", UID: "s1", CreationTimestamp: created},
			Provisioner: "kubernetes.io/rbd",
		}},
		{name: "retain-wait-for-first-consumer", obj: &storagev1.StorageClass{
			ObjectMeta:        metav1.ObjectMeta{Name: "local", UID: "s2", CreationTimestamp: created},
			Provisioner:       "kubernetes.io/no-provisioner",
			ReclaimPolicy:     new(v1.PersistentVolumeReclaimRetain),
			VolumeBindingMode: new(storagev1.VolumeBindingWaitForFirstConsumer),
		}},
		{name: "allowlists", obj: &storagev1.StorageClass{
			ObjectMeta: metav1.ObjectMeta{Name: "fast", UID: "s3",
				Labels:      map[string]string{"tier": "ssd"},
				Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true", "app": "a"}},
			Provisioner: "ebs.csi.aws.com",
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
