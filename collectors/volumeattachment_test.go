package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestVolumeAttachmentGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	attached := &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: "csi-5f3a", UID: "va1", CreationTimestamp: created,
			// Keys that convert to the same label name get _conflictN suffixes.
			Labels: map[string]string{"app.kubernetes.io/name": "db", "foo-bar": "1", "foo.bar": "2", "camelCase": "x"}},
		Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "ebs.csi.aws.com",
			NodeName: "node-1",
			Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: new("pv-ebs")},
		},
		Status: storagev1.VolumeAttachmentStatus{
			Attached:           true,
			AttachmentMetadata: map[string]string{"devicePath": "/dev/xvdba", "lun": "3"},
		},
	}
	runGolden(t, "volumeattachments", []goldenCase{
		// kube_volumeattachment_labels carries every label although no allowlist is set.
		{name: "attached-pv", obj: attached},
		{name: "attached-pv-with-allowlist", obj: attached, opts: Options{AllowLabels: []string{"team"}}},
		// An inline (migrated) volume has no persistent volume name; without labels
		// or metadata the labels and metadata series carry only the object label.
		{name: "inline-detached", obj: &storagev1.VolumeAttachment{
			ObjectMeta: metav1.ObjectMeta{Name: "csi-inline", UID: "va2", CreationTimestamp: created},
			Spec: storagev1.VolumeAttachmentSpec{
				Attacher: "pd.csi.storage.gke.io",
				NodeName: "node-2",
				Source:   storagev1.VolumeAttachmentSource{InlineVolumeSpec: &v1.PersistentVolumeSpec{}},
			},
			Status: storagev1.VolumeAttachmentStatus{AttachError: &storagev1.VolumeError{Message: "timeout"}},
		}},
		{name: "empty", obj: &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "bare", UID: "va3"}}},
	})
}
