package collectors

import (
	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// storageClassResource is the storageclasses resource.
func storageClassResource() Resource {
	return &resource[*storagev1.StorageClass]{
		name:      "storageclasses",
		newObject: func() *storagev1.StorageClass { return &storagev1.StorageClass{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.StorageV1().StorageClasses().List, c.StorageV1().StorageClasses().Watch)
		},
		objectLabels: func(s *storagev1.StorageClass) []Label { return []Label{{Name: "storageclass", Value: s.Name}} },
		families:     storageClassFamilies,
	}
}

func storageClassFamilies(o Options) []Family[*storagev1.StorageClass] {
	return []Family[*storagev1.StorageClass]{
		{
			Name: "kube_storageclass_info", Help: "Information about storageclass.", Type: Gauge, Stability: Stable,
			// Unset policy and mode are reported as the API server's defaults.
			Gen: func(s *storagev1.StorageClass) []Metric {
				reclaim, binding := v1.PersistentVolumeReclaimDelete, storagev1.VolumeBindingImmediate
				if s.ReclaimPolicy != nil {
					reclaim = *s.ReclaimPolicy
				}
				if s.VolumeBindingMode != nil {
					binding = *s.VolumeBindingMode
				}
				return []Metric{m(1, "provisioner", s.Provisioner,
					"reclaim_policy", string(reclaim), "volume_binding_mode", string(binding))}
			},
		},
		createdFamily[*storagev1.StorageClass]("storageclass", Stable),
		annotationsFamily[*storagev1.StorageClass]("storageclass", Alpha, o.AllowAnnotations),
		labelsFamily[*storagev1.StorageClass]("storageclass", Stable, o.AllowLabels),
	}
}
