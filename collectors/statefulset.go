package collectors

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// statefulSetResource is the statefulsets resource.
func statefulSetResource() Resource {
	return &resource[*appsv1.StatefulSet]{
		name:       "statefulsets",
		namespaced: true,
		newObject:  func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.AppsV1().StatefulSets(ns).List, c.AppsV1().StatefulSets(ns).Watch)
		},
		objectLabels: func(s *appsv1.StatefulSet) []Label {
			return []Label{{Name: "namespace", Value: s.Namespace}, {Name: "statefulset", Value: s.Name}}
		},
		unobserved: func(s *appsv1.StatefulSet) bool { return s.Status.ObservedGeneration == 0 },
		families:   statefulSetFamilies,
	}
}

func statefulSetFamilies(o Options) []Family[*appsv1.StatefulSet] {
	return []Family[*appsv1.StatefulSet]{
		createdFamily[*appsv1.StatefulSet]("statefulset", Stable),
		{
			Name: "kube_statefulset_status_replicas", Help: "The number of replicas per StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.Replicas)) },
		},
		{
			Name: "kube_statefulset_status_replicas_available", Help: "The number of available replicas per StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.AvailableReplicas)) },
		},
		{
			Name: "kube_statefulset_status_replicas_current", Help: "The number of current replicas per StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.CurrentReplicas)) },
		},
		{
			Name: "kube_statefulset_status_replicas_ready", Help: "The number of ready replicas per StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.ReadyReplicas)) },
		},
		{
			Name: "kube_statefulset_status_replicas_updated", Help: "The number of updated replicas per StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.UpdatedReplicas)) },
		},
		{
			Name: "kube_statefulset_status_observed_generation", Help: "The generation observed by the StatefulSet controller.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Status.ObservedGeneration)) },
		},
		{
			Name: "kube_statefulset_replicas", Help: "Number of desired pods for a StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return optional(s.Spec.Replicas) },
		},
		{
			Name: "kube_statefulset_ordinals_start", Help: "Start ordinal of the StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric {
				if s.Spec.Ordinals == nil {
					return nil
				}
				return one(float64(s.Spec.Ordinals.Start))
			},
		},
		{
			Name: "kube_statefulset_metadata_generation", Help: "Sequence number representing a specific generation of the desired state for the StatefulSet.", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return one(float64(s.Generation)) },
		},
		{
			Name: "kube_statefulset_persistentvolumeclaim_retention_policy", Help: "Count of retention policy for StatefulSet template PVCs", Type: Gauge, Stability: Stable,
			// KSM emits the series when either policy is non-empty; an empty one
			// drops its label.
			Gen: func(s *appsv1.StatefulSet) []Metric {
				p := s.Spec.PersistentVolumeClaimRetentionPolicy
				if p == nil || p.WhenDeleted == "" && p.WhenScaled == "" {
					return nil
				}
				return []Metric{m(1, "when_deleted", string(p.WhenDeleted), "when_scaled", string(p.WhenScaled))}
			},
		},
		annotationsFamily[*appsv1.StatefulSet]("statefulset", Stable, o.AllowAnnotations),
		labelsFamily[*appsv1.StatefulSet]("statefulset", Stable, o.AllowLabels),
		{
			Name: "kube_statefulset_status_current_revision", Help: "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).", Type: Gauge, Stability: Stable,
			// Always one series; an empty revision drops the label.
			Gen: func(s *appsv1.StatefulSet) []Metric { return []Metric{m(1, "revision", s.Status.CurrentRevision)} },
		},
		{
			Name: "kube_statefulset_status_update_revision", Help: "Indicates the version of the StatefulSet used to generate Pods in the sequence [replicas-updatedReplicas,replicas)", Type: Gauge, Stability: Stable,
			Gen: func(s *appsv1.StatefulSet) []Metric { return []Metric{m(1, "revision", s.Status.UpdateRevision)} },
		},
		deletionTimestampFamily[*appsv1.StatefulSet]("statefulset", Stable),
	}
}
