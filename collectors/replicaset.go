package collectors

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// replicaSetResource is the replicasets resource.
func replicaSetResource() Resource {
	return &resource[*appsv1.ReplicaSet]{
		name:       "replicasets",
		namespaced: true,
		newObject:  func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.AppsV1().ReplicaSets(ns).List, c.AppsV1().ReplicaSets(ns).Watch)
		},
		objectLabels: func(r *appsv1.ReplicaSet) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "replicaset", Value: r.Name}}
		},
		unobserved: func(r *appsv1.ReplicaSet) bool { return r.Status.ObservedGeneration == 0 },
		families:   replicaSetFamilies,
	}
}

func replicaSetFamilies(o Options) []Family[*appsv1.ReplicaSet] {
	counts := func(r *appsv1.ReplicaSet) replicaCounts {
		return replicaCounts{
			spec: r.Spec.Replicas, replicas: r.Status.Replicas, fullyLabeled: r.Status.FullyLabeledReplicas,
			ready: r.Status.ReadyReplicas, observedGeneration: r.Status.ObservedGeneration,
		}
	}
	// KSM writes it after status_ready_replicas.
	fams := slices.Insert(replicaFamilies("replicaset", "ReplicaSet", Stable, counts), replicaExtraAt,
		Family[*appsv1.ReplicaSet]{
			Name: "kube_replicaset_status_terminating_replicas", Help: "The number of terminating replicas per ReplicaSet.", Type: Gauge, Stability: Alpha,
			Gen: func(r *appsv1.ReplicaSet) []Metric { return optional(r.Status.TerminatingReplicas) },
		})
	return append(fams,
		annotationsFamily[*appsv1.ReplicaSet]("replicaset", Alpha, o.AllowAnnotations),
		labelsFamily[*appsv1.ReplicaSet]("replicaset", Stable, o.AllowLabels),
	)
}

// replicaCounts are the fields that KSM's ReplicaSet and ReplicationController
// stores, copies of each other, read alike.
type replicaCounts struct {
	spec                          *int32
	replicas, fullyLabeled, ready int32
	observedGeneration            int64
}

// replicaExtraAt is where, among replicaFamilies, KSM writes the one family
// its ReplicaSet and ReplicationController stores add each.
const replicaExtraAt = 4

// replicaFamilies are the families the ReplicaSet and ReplicationController
// stores share. kind is the kind as it appears in metric names ("replicaset"),
// title as help texts spell it ("ReplicaSet"). Only the owner family's
// stability differs between the two.
func replicaFamilies[T metav1.Object](kind, title string, ownerStability Stability, counts func(T) replicaCounts) []Family[T] {
	prefix := "kube_" + kind + "_"
	return []Family[T]{
		createdFamily[T](kind, Stable),
		{
			Name: prefix + "status_replicas", Help: "The number of replicas per " + title + ".", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return one(float64(counts(o).replicas)) },
		},
		{
			Name: prefix + "status_fully_labeled_replicas", Help: "The number of fully labeled replicas per " + title + ".", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return one(float64(counts(o).fullyLabeled)) },
		},
		{
			Name: prefix + "status_ready_replicas", Help: "The number of ready replicas per " + title + ".", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return one(float64(counts(o).ready)) },
		},
		{
			Name: prefix + "status_observed_generation", Help: "The generation observed by the " + title + " controller.", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return one(float64(counts(o).observedGeneration)) },
		},
		{
			Name: prefix + "spec_replicas", Help: "Number of desired pods for a " + title + ".", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return optional(counts(o).spec) },
		},
		{
			Name: prefix + "metadata_generation", Help: "Sequence number representing a specific generation of the desired state.", Type: Gauge, Stability: Stable,
			Gen: func(o T) []Metric { return one(float64(o.GetGeneration())) },
		},
		{
			Name: prefix + "owner", Help: "Information about the " + title + "'s owner.", Type: Gauge, Stability: ownerStability,
			Gen: func(o T) []Metric { return ownerMetrics(o.GetOwnerReferences(), true) },
		},
	}
}
