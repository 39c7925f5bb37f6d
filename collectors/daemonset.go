package collectors

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// daemonSetResource is the daemonsets resource.
func daemonSetResource() Resource {
	return &resource[*appsv1.DaemonSet]{
		name:       "daemonsets",
		namespaced: true,
		newObject:  func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.AppsV1().DaemonSets(ns).List, c.AppsV1().DaemonSets(ns).Watch)
		},
		objectLabels: func(d *appsv1.DaemonSet) []Label {
			return []Label{{Name: "namespace", Value: d.Namespace}, {Name: "daemonset", Value: d.Name}}
		},
		unobserved: func(d *appsv1.DaemonSet) bool { return d.Status.ObservedGeneration == 0 },
		families:   daemonSetFamilies,
	}
}

func daemonSetFamilies(o Options) []Family[*appsv1.DaemonSet] {
	return []Family[*appsv1.DaemonSet]{
		createdFamily[*appsv1.DaemonSet]("daemonset", Stable),
		{
			Name: "kube_daemonset_status_current_number_scheduled", Type: Gauge, Stability: Stable,
			Help: "The number of nodes running at least one daemon pod and are supposed to.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.CurrentNumberScheduled)) },
		},
		{
			Name: "kube_daemonset_status_desired_number_scheduled", Type: Gauge, Stability: Stable,
			Help: "The number of nodes that should be running the daemon pod.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.DesiredNumberScheduled)) },
		},
		{
			Name: "kube_daemonset_status_number_available", Type: Gauge, Stability: Stable,
			Help: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.NumberAvailable)) },
		},
		{
			Name: "kube_daemonset_status_number_misscheduled", Type: Gauge, Stability: Stable,
			Help: "The number of nodes running a daemon pod but are not supposed to.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.NumberMisscheduled)) },
		},
		{
			Name: "kube_daemonset_status_number_ready", Type: Gauge, Stability: Stable,
			Help: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.NumberReady)) },
		},
		{
			Name: "kube_daemonset_status_number_unavailable", Type: Gauge, Stability: Stable,
			Help: "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.NumberUnavailable)) },
		},
		{
			Name: "kube_daemonset_status_observed_generation", Type: Gauge, Stability: Stable,
			Help: "The most recent generation observed by the daemon set controller.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.ObservedGeneration)) },
		},
		{
			Name: "kube_daemonset_status_updated_number_scheduled", Type: Gauge, Stability: Stable,
			Help: "The total number of nodes that are running updated daemon pod",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Status.UpdatedNumberScheduled)) },
		},
		{
			Name: "kube_daemonset_metadata_generation", Type: Gauge, Stability: Stable,
			Help: "Sequence number representing a specific generation of the desired state.",
			Gen:  func(d *appsv1.DaemonSet) []Metric { return one(float64(d.Generation)) },
		},
		deletionTimestampFamily[*appsv1.DaemonSet]("daemonset", Alpha),
		annotationsFamily[*appsv1.DaemonSet]("daemonset", Alpha, o.AllowAnnotations),
		labelsFamily[*appsv1.DaemonSet]("daemonset", Stable, o.AllowLabels),
	}
}
