package collectors

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// horizontalPodAutoscalerResource is the horizontalpodautoscalers resource.
func horizontalPodAutoscalerResource() Resource {
	return &resource[*autoscalingv2.HorizontalPodAutoscaler]{
		name:       "horizontalpodautoscalers",
		namespaced: true,
		newObject:  func() *autoscalingv2.HorizontalPodAutoscaler { return &autoscalingv2.HorizontalPodAutoscaler{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.AutoscalingV2().HorizontalPodAutoscalers(ns).List, c.AutoscalingV2().HorizontalPodAutoscalers(ns).Watch)
		},
		objectLabels: func(a *autoscalingv2.HorizontalPodAutoscaler) []Label {
			return []Label{{Name: "namespace", Value: a.Namespace}, {Name: "horizontalpodautoscaler", Value: a.Name}}
		},
		families: hpaFamilies,
	}
}

func hpaFamilies(o Options) []Family[*autoscalingv2.HorizontalPodAutoscaler] {
	type hpa = *autoscalingv2.HorizontalPodAutoscaler
	return []Family[hpa]{
		{
			Name: "kube_horizontalpodautoscaler_info", Help: "Information about this autoscaler.", Type: Gauge, Stability: Alpha,
			// KSM leaves out scaletargetref_api_version when it is empty, as an
			// empty value does here.
			Gen: func(a hpa) []Metric {
				ref := a.Spec.ScaleTargetRef
				return []Metric{m(1, "scaletargetref_api_version", ref.APIVersion,
					"scaletargetref_kind", ref.Kind, "scaletargetref_name", ref.Name)}
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_metadata_generation", Help: "The generation observed by the HorizontalPodAutoscaler controller.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric { return one(float64(a.Generation)) },
		},
		{
			Name: "kube_horizontalpodautoscaler_spec_max_replicas", Help: "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric { return one(float64(a.Spec.MaxReplicas)) },
		},
		{
			Name: "kube_horizontalpodautoscaler_spec_min_replicas", Help: "Lower limit for the number of pods that can be set by the autoscaler, default 1.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric {
				if a.Spec.MinReplicas == nil {
					return one(1)
				}
				return one(float64(*a.Spec.MinReplicas))
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_spec_target_metric", Help: "The metric specifications used by this autoscaler when calculating the desired replica count.", Type: Gauge, Stability: Alpha,
			Gen: func(a hpa) []Metric {
				var out []Metric
				for _, s := range a.Spec.Metrics {
					if name, container, t, ok := hpaSpecTarget(s); ok {
						out = append(out, hpaTargetMetrics(name, container, t.Value, t.AverageValue, t.AverageUtilization)...)
					}
				}
				return out
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance", Help: "The tolerance on the ratio between the current and desired metric value below which no scale down occurs.", Type: Gauge, Stability: Alpha,
			Gen: func(a hpa) []Metric {
				if b := a.Spec.Behavior; b != nil {
					return hpaTolerance(b.ScaleDown)
				}
				return nil
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance", Help: "The tolerance on the ratio between the current and desired metric value below which no scale up occurs.", Type: Gauge, Stability: Alpha,
			Gen: func(a hpa) []Metric {
				if b := a.Spec.Behavior; b != nil {
					return hpaTolerance(b.ScaleUp)
				}
				return nil
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_status_target_metric", Help: "The current metric status used by this autoscaler when calculating the desired replica count.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric {
				var out []Metric
				for _, s := range a.Status.CurrentMetrics {
					if name, container, c, ok := hpaStatusCurrent(s); ok {
						out = append(out, hpaTargetMetrics(name, container, c.Value, c.AverageValue, c.AverageUtilization)...)
					}
				}
				return out
			},
		},
		{
			Name: "kube_horizontalpodautoscaler_status_current_replicas", Help: "Current number of replicas of pods managed by this autoscaler.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric { return one(float64(a.Status.CurrentReplicas)) },
		},
		{
			Name: "kube_horizontalpodautoscaler_status_desired_replicas", Help: "Desired number of replicas of pods managed by this autoscaler.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric { return one(float64(a.Status.DesiredReplicas)) },
		},
		annotationsFamily[hpa]("horizontalpodautoscaler", Alpha, o.AllowAnnotations),
		labelsFamily[hpa]("horizontalpodautoscaler", Stable, o.AllowLabels),
		{
			Name: "kube_horizontalpodautoscaler_status_condition", Help: "The condition of this autoscaler.", Type: Gauge, Stability: Stable,
			Gen: func(a hpa) []Metric {
				out := make([]Metric, 0, 3*len(a.Status.Conditions))
				for _, c := range a.Status.Conditions {
					out = append(out, conditionMetrics("status", c.Status, "condition", string(c.Type))...)
				}
				return out
			},
		},
		createdFamily[hpa]("horizontalpodautoscaler", Alpha),
		deletionTimestampFamily[hpa]("horizontalpodautoscaler", Alpha),
	}
}

// hpaSpecTarget picks the source that a metric spec's type names, as KSM does:
// its metric or resource name, its container (ContainerResource only) and its
// target. ok is false for an unknown type or when that source is unset (KSM
// would dereference nil there; we skip the entry instead).
func hpaSpecTarget(s autoscalingv2.MetricSpec) (name, container string, t autoscalingv2.MetricTarget, ok bool) {
	switch {
	case s.Type == autoscalingv2.ObjectMetricSourceType && s.Object != nil:
		return s.Object.Metric.Name, "", s.Object.Target, true
	case s.Type == autoscalingv2.PodsMetricSourceType && s.Pods != nil:
		return s.Pods.Metric.Name, "", s.Pods.Target, true
	case s.Type == autoscalingv2.ResourceMetricSourceType && s.Resource != nil:
		return string(s.Resource.Name), "", s.Resource.Target, true
	case s.Type == autoscalingv2.ContainerResourceMetricSourceType && s.ContainerResource != nil:
		return string(s.ContainerResource.Name), s.ContainerResource.Container, s.ContainerResource.Target, true
	case s.Type == autoscalingv2.ExternalMetricSourceType && s.External != nil:
		return s.External.Metric.Name, "", s.External.Target, true
	}
	return "", "", autoscalingv2.MetricTarget{}, false
}

// hpaStatusCurrent is hpaSpecTarget for a current metric of the status; KSM
// skips unset sources there too.
func hpaStatusCurrent(s autoscalingv2.MetricStatus) (name, container string, c autoscalingv2.MetricValueStatus, ok bool) {
	switch {
	case s.Type == autoscalingv2.ObjectMetricSourceType && s.Object != nil:
		return s.Object.Metric.Name, "", s.Object.Current, true
	case s.Type == autoscalingv2.PodsMetricSourceType && s.Pods != nil:
		return s.Pods.Metric.Name, "", s.Pods.Current, true
	case s.Type == autoscalingv2.ResourceMetricSourceType && s.Resource != nil:
		return string(s.Resource.Name), "", s.Resource.Current, true
	case s.Type == autoscalingv2.ContainerResourceMetricSourceType && s.ContainerResource != nil:
		return string(s.ContainerResource.Name), s.ContainerResource.Container, s.ContainerResource.Current, true
	case s.Type == autoscalingv2.ExternalMetricSourceType && s.External != nil:
		return s.External.Metric.Name, "", s.External.Current, true
	}
	return "", "", autoscalingv2.MetricValueStatus{}, false
}

// hpaTargetMetrics is one series per value that is set: metric_target_type
// "value" and "average" hold the quantity at milli precision, "utilization" the
// percentage. container is empty except for ContainerResource sources.
func hpaTargetMetrics(name, container string, value, average *apiresource.Quantity, utilization *int32) []Metric {
	var out []Metric
	if value != nil {
		out = append(out, m(ksmQuantityFloat(value), "metric_name", name, "metric_target_type", "value", "container", container))
	}
	if average != nil {
		out = append(out, m(ksmQuantityFloat(average), "metric_name", name, "metric_target_type", "average", "container", container))
	}
	if utilization != nil {
		out = append(out, m(float64(*utilization), "metric_name", name, "metric_target_type", "utilization", "container", container))
	}
	return out
}

// hpaTolerance is the scaling rules' tolerance, or no series when either is unset.
// KSM takes AsApproximateFloat64 here, not the milli-precision of the targets.
func hpaTolerance(r *autoscalingv2.HPAScalingRules) []Metric {
	if r == nil || r.Tolerance == nil {
		return nil
	}
	return one(r.Tolerance.AsApproximateFloat64())
}
