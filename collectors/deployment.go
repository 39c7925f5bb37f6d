package collectors

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// deploymentResource is the deployments resource.
func deploymentResource() Resource {
	return &resource[*appsv1.Deployment]{
		name:       "deployments",
		namespaced: true,
		newObject:  func() *appsv1.Deployment { return &appsv1.Deployment{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.AppsV1().Deployments(ns).List, c.AppsV1().Deployments(ns).Watch)
		},
		objectLabels: func(d *appsv1.Deployment) []Label {
			return []Label{{Name: "namespace", Value: d.Namespace}, {Name: "deployment", Value: d.Name}}
		},
		unobserved: func(d *appsv1.Deployment) bool { return d.Status.ObservedGeneration == 0 },
		families:   deploymentFamilies,
	}
}

// deploymentConditionReasons are the condition reasons the deployment controller
// sets (kubernetes pkg/controller/deployment/util). KSM keeps them, and the empty
// reason, in the reason label; any other reason becomes "unknown" so that a
// free-form reason cannot grow the label's cardinality.
var deploymentConditionReasons = map[string]bool{
	"ReplicaSetUpdated":          true,
	"ReplicaSetCreateError":      true,
	"NewReplicaSetCreated":       true,
	"FoundNewReplicaSet":         true,
	"NewReplicaSetAvailable":     true,
	"ProgressDeadlineExceeded":   true,
	"DeploymentPaused":           true,
	"DeploymentResumed":          true,
	"MinimumReplicasAvailable":   true,
	"MinimumReplicasUnavailable": true,
	"":                           true,
}

func deploymentConditionReason(reason string) string {
	if deploymentConditionReasons[reason] {
		return reason
	}
	return "unknown"
}

// rollingUpdateValue resolves maxUnavailable (roundUp false) or maxSurge (roundUp
// true) to an absolute number of pods against spec.replicas, as the deployment
// controller does. There is no series without a rollingUpdate, without replicas,
// or when the value is unset or not an int or "<int>%".
func rollingUpdateValue(d *appsv1.Deployment, v func(*appsv1.RollingUpdateDeployment) *intstr.IntOrString, roundUp bool) []Metric {
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil || d.Spec.Replicas == nil {
		return nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v(ru), int(*d.Spec.Replicas), roundUp)
	if err != nil {
		return nil
	}
	return one(float64(n))
}

func deploymentFamilies(o Options) []Family[*appsv1.Deployment] {
	return []Family[*appsv1.Deployment]{
		{
			Name: "kube_deployment_owner", Help: "Information about the Deployment's owner.", Type: Gauge, Stability: Alpha,
			// Unlike the other *_owner families, KSM gives this one no owner_is_controller.
			Gen: func(d *appsv1.Deployment) []Metric { return ownerMetrics(d.OwnerReferences, false) },
		},
		createdFamily[*appsv1.Deployment]("deployment", Stable),
		{
			Name: "kube_deployment_status_replicas", Help: "The number of replicas per deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.Replicas)) },
		},
		{
			Name: "kube_deployment_status_replicas_ready", Help: "The number of ready replicas per deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.ReadyReplicas)) },
		},
		{
			Name: "kube_deployment_status_replicas_available", Help: "The number of available replicas per deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.AvailableReplicas)) },
		},
		{
			Name: "kube_deployment_status_replicas_unavailable", Help: "The number of unavailable replicas per deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.UnavailableReplicas)) },
		},
		{
			Name: "kube_deployment_status_replicas_updated", Help: "The number of updated replicas per deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.UpdatedReplicas)) },
		},
		{
			Name: "kube_deployment_status_terminating_replicas", Help: "The number of terminating replicas per deployment.", Type: Gauge, Stability: Alpha,
			Gen: func(d *appsv1.Deployment) []Metric {
				if d.Status.TerminatingReplicas == nil {
					return nil
				}
				return one(float64(*d.Status.TerminatingReplicas))
			},
		},
		{
			Name: "kube_deployment_status_observed_generation", Help: "The generation observed by the deployment controller.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Status.ObservedGeneration)) },
		},
		{
			Name: "kube_deployment_status_condition", Help: "The current status conditions of a deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric {
				out := make([]Metric, 0, 3*len(d.Status.Conditions))
				for _, c := range d.Status.Conditions {
					out = append(out, conditionMetrics("status", c.Status,
						"reason", deploymentConditionReason(c.Reason), "condition", string(c.Type))...)
				}
				return out
			},
		},
		{
			Name: "kube_deployment_spec_replicas", Help: "Number of desired pods for a deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric {
				if d.Spec.Replicas == nil {
					return nil
				}
				return one(float64(*d.Spec.Replicas))
			},
		},
		{
			Name: "kube_deployment_spec_paused", Help: "Whether the deployment is paused and will not be processed by the deployment controller.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(boolFloat(d.Spec.Paused)) },
		},
		{
			Name: "kube_deployment_spec_strategy_rollingupdate_max_unavailable", Help: "Maximum number of unavailable replicas during a rolling update of a deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric {
				return rollingUpdateValue(d, func(ru *appsv1.RollingUpdateDeployment) *intstr.IntOrString { return ru.MaxUnavailable }, false)
			},
		},
		{
			Name: "kube_deployment_spec_strategy_rollingupdate_max_surge", Help: "Maximum number of replicas that can be scheduled above the desired number of replicas during a rolling update of a deployment.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric {
				return rollingUpdateValue(d, func(ru *appsv1.RollingUpdateDeployment) *intstr.IntOrString { return ru.MaxSurge }, true)
			},
		},
		{
			Name: "kube_deployment_metadata_generation", Help: "Sequence number representing a specific generation of the desired state.", Type: Gauge, Stability: Stable,
			Gen: func(d *appsv1.Deployment) []Metric { return one(float64(d.Generation)) },
		},
		deletionTimestampFamily[*appsv1.Deployment]("deployment", Alpha),
		annotationsFamily[*appsv1.Deployment]("deployment", Alpha, o.AllowAnnotations),
		labelsFamily[*appsv1.Deployment]("deployment", Stable, o.AllowLabels),
	}
}
