package collectors

import (
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// replicationControllerResource is the replicationcontrollers resource.
func replicationControllerResource() Resource {
	return &resource[*v1.ReplicationController]{
		name:       "replicationcontrollers",
		namespaced: true,
		newObject:  func() *v1.ReplicationController { return &v1.ReplicationController{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().ReplicationControllers(ns).List, c.CoreV1().ReplicationControllers(ns).Watch)
		},
		objectLabels: func(r *v1.ReplicationController) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "replicationcontroller", Value: r.Name}}
		},
		families: replicationControllerFamilies,
	}
}

// replicationControllerFamilies are the ReplicaSet families KSM copied, with an
// ALPHA owner family, available instead of terminating replicas, and no
// labels or annotations families.
func replicationControllerFamilies(Options) []Family[*v1.ReplicationController] {
	counts := func(r *v1.ReplicationController) replicaCounts {
		return replicaCounts{
			spec: r.Spec.Replicas, replicas: r.Status.Replicas, fullyLabeled: r.Status.FullyLabeledReplicas,
			ready: r.Status.ReadyReplicas, observedGeneration: r.Status.ObservedGeneration,
		}
	}
	// KSM writes it after status_ready_replicas.
	return slices.Insert(replicaFamilies("replicationcontroller", "ReplicationController", Alpha, counts), replicaExtraAt,
		Family[*v1.ReplicationController]{
			Name: "kube_replicationcontroller_status_available_replicas", Help: "The number of available replicas per ReplicationController.", Type: Gauge, Stability: Stable,
			Gen: func(r *v1.ReplicationController) []Metric { return one(float64(r.Status.AvailableReplicas)) },
		},
	)
}
