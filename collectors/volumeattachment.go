package collectors

import (
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// volumeAttachmentResource is the volumeattachments resource.
func volumeAttachmentResource() Resource {
	return &resource[*storagev1.VolumeAttachment]{
		name:      "volumeattachments",
		newObject: func() *storagev1.VolumeAttachment { return &storagev1.VolumeAttachment{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.StorageV1().VolumeAttachments().List, c.StorageV1().VolumeAttachments().Watch)
		},
		objectLabels: func(va *storagev1.VolumeAttachment) []Label {
			return []Label{{Name: "volumeattachment", Value: va.Name}}
		},
		families: volumeAttachmentFamilies,
	}
}

// volumeAttachmentMap is one series carrying every key of kv as a <prefix>_*
// label. Unlike the other *_labels families, KSM does not filter these by the
// allowlist, and emits the series even when kv is empty.
func volumeAttachmentMap(prefix string, kv map[string]string) []Metric {
	keys, values := mapToLabels(prefix, kv)
	return []Metric{{Keys: keys, Values: values, Value: 1}}
}

func volumeAttachmentFamilies(_ Options) []Family[*storagev1.VolumeAttachment] {
	return []Family[*storagev1.VolumeAttachment]{
		{
			Name: "kube_volumeattachment_labels", Help: "Kubernetes labels converted to Prometheus labels.", Type: Gauge, Stability: Alpha,
			Gen: func(va *storagev1.VolumeAttachment) []Metric { return volumeAttachmentMap("label", va.Labels) },
		},
		{
			Name: "kube_volumeattachment_info", Help: "Information about volumeattachment.", Type: Gauge, Stability: Alpha,
			Gen: func(va *storagev1.VolumeAttachment) []Metric {
				return []Metric{m(1, "attacher", va.Spec.Attacher, "node", va.Spec.NodeName)}
			},
		},
		createdFamily[*storagev1.VolumeAttachment]("volumeattachment", Alpha),
		{
			Name: "kube_volumeattachment_spec_source_persistentvolume", Help: "PersistentVolume source reference.", Type: Gauge, Stability: Alpha,
			Gen: func(va *storagev1.VolumeAttachment) []Metric {
				if va.Spec.Source.PersistentVolumeName == nil {
					return nil
				}
				return []Metric{m(1, "volumename", *va.Spec.Source.PersistentVolumeName)}
			},
		},
		{
			Name: "kube_volumeattachment_status_attached", Help: "Information about volumeattachment.", Type: Gauge, Stability: Alpha,
			Gen: func(va *storagev1.VolumeAttachment) []Metric { return one(boolFloat(va.Status.Attached)) },
		},
		{
			Name: "kube_volumeattachment_status_attachment_metadata", Help: "volumeattachment metadata.", Type: Gauge, Stability: Alpha,
			Gen: func(va *storagev1.VolumeAttachment) []Metric {
				return volumeAttachmentMap("metadata", va.Status.AttachmentMetadata)
			},
		},
	}
}
