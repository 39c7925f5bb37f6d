package collectors

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// persistentVolumeClaimResource is the persistentvolumeclaims resource.
func persistentVolumeClaimResource() Resource {
	return &resource[*v1.PersistentVolumeClaim]{
		name:       "persistentvolumeclaims",
		namespaced: true,
		newObject:  func() *v1.PersistentVolumeClaim { return &v1.PersistentVolumeClaim{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().PersistentVolumeClaims(ns).List, c.CoreV1().PersistentVolumeClaims(ns).Watch)
		},
		objectLabels: func(p *v1.PersistentVolumeClaim) []Label {
			return []Label{{Name: "namespace", Value: p.Namespace}, {Name: "persistentvolumeclaim", Value: p.Name}}
		},
		families: persistentVolumeClaimFamilies,
	}
}

// persistentVolumeClaimPhases are the series of kube_persistentvolumeclaim_status_phase, in KSM's order.
var persistentVolumeClaimPhases = []v1.PersistentVolumeClaimPhase{v1.ClaimLost, v1.ClaimBound, v1.ClaimPending}

// persistentVolumeClaimClass is the claim's storage class as KSM reports it: the
// deprecated beta annotation wins over spec.storageClassName, and no class is "".
func persistentVolumeClaimClass(p *v1.PersistentVolumeClaim) string {
	if class, ok := p.Annotations[v1.BetaStorageClassAnnotation]; ok {
		return class
	}
	if p.Spec.StorageClassName != nil {
		return *p.Spec.StorageClassName
	}
	return ""
}

func persistentVolumeClaimFamilies(o Options) []Family[*v1.PersistentVolumeClaim] {
	return []Family[*v1.PersistentVolumeClaim]{
		labelsFamily[*v1.PersistentVolumeClaim]("persistentvolumeclaim", Stable, o.AllowLabels),
		annotationsFamily[*v1.PersistentVolumeClaim]("persistentvolumeclaim", Alpha, o.AllowAnnotations),
		{
			Name: "kube_persistentvolumeclaim_info", Help: "Information about persistent volume claim.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolumeClaim) []Metric {
				var mode string
				if p.Spec.VolumeMode != nil {
					mode = string(*p.Spec.VolumeMode)
				}
				return []Metric{m(1, "storageclass", persistentVolumeClaimClass(p), "volumename", p.Spec.VolumeName, "volumemode", mode)}
			},
		},
		{
			Name: "kube_persistentvolumeclaim_status_phase", Help: "The phase the persistent volume claim is currently in.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolumeClaim) []Metric {
				return phaseMetrics(p.Status.Phase, persistentVolumeClaimPhases)
			},
		},
		{
			Name: "kube_persistentvolumeclaim_resource_requests_storage_bytes", Help: "The capacity of storage requested by the persistent volume claim.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolumeClaim) []Metric {
				storage, ok := p.Spec.Resources.Requests[v1.ResourceStorage]
				if !ok {
					return nil
				}
				return one(float64(storage.Value()))
			},
		},
		{
			Name: "kube_persistentvolumeclaim_access_mode", Help: "The access mode(s) specified by the persistent volume claim.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolumeClaim) []Metric { return accessModeMetrics(p.Spec.AccessModes) },
		},
		{
			Name: "kube_persistentvolumeclaim_status_condition", Help: "Information about status of different conditions of persistent volume claim.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.PersistentVolumeClaim) []Metric {
				out := make([]Metric, 0, 3*len(p.Status.Conditions))
				for _, c := range p.Status.Conditions {
					out = append(out, conditionMetrics("status", c.Status, "condition", string(c.Type))...)
				}
				return out
			},
		},
		createdFamily[*v1.PersistentVolumeClaim]("persistentvolumeclaim", Alpha),
		deletionTimestampFamily[*v1.PersistentVolumeClaim]("persistentvolumeclaim", Alpha),
	}
}
