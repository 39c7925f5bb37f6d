package collectors

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHorizontalPodAutoscalerGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	q := func(s string) *apiresource.Quantity { return new(apiresource.MustParse(s)) }
	id := func(name string) autoscalingv2.MetricIdentifier { return autoscalingv2.MetricIdentifier{Name: name} }
	runGolden(t, "horizontalpodautoscalers", []goldenCase{
		{name: "every-source-type", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "hpa1", Namespace: "ns1", UID: "h1", CreationTimestamp: created, Generation: 2},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(2)),
				MaxReplicas:    10,
				Metrics: []autoscalingv2.MetricSpec{
					// Object: value and average, at milli precision.
					{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
						Metric: id("hits"), Target: autoscalingv2.MetricTarget{Value: q("0.5"), AverageValue: q("700m")}}},
					{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
						Metric: id("transactions_processed"), Target: autoscalingv2.MetricTarget{AverageValue: q("33")}}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name: v1.ResourceCPU, Target: autoscalingv2.MetricTarget{AverageUtilization: new(int32(80))}}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
						Name: v1.ResourceMemory, Target: autoscalingv2.MetricTarget{AverageValue: q("800Ki"), AverageUtilization: new(int32(75))}}},
					// No target values: no series.
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "disk"}},
					// ContainerResource: one series per container, with a container label.
					{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
						Name: v1.ResourceCPU, Container: "app", Target: autoscalingv2.MetricTarget{AverageUtilization: new(int32(60))}}},
					{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
						Name: v1.ResourceCPU, Container: "sidecar", Target: autoscalingv2.MetricTarget{AverageUtilization: new(int32(90)), AverageValue: q("250m")}}},
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
						Metric: id("sqs_jobs"), Target: autoscalingv2.MetricTarget{Value: q("30")}}},
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
						Metric: id("events"), Target: autoscalingv2.MetricTarget{AverageValue: q("30")}}},
					// Skipped: an unknown type, a type whose source is unset, and a
					// source that is not the one the type names.
					{Type: "Future", Pods: &autoscalingv2.PodsMetricSource{
						Metric: id("future"), Target: autoscalingv2.MetricTarget{AverageValue: q("1")}}},
					{Type: autoscalingv2.ObjectMetricSourceType},
					{Type: autoscalingv2.PodsMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
						Metric: id("mismatch"), Target: autoscalingv2.MetricTarget{Value: q("1")}}},
				},
			},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{
				CurrentReplicas: 3, DesiredReplicas: 4,
				CurrentMetrics: []autoscalingv2.MetricStatus{
					{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricStatus{
						Metric: id("hits"), Current: autoscalingv2.MetricValueStatus{Value: q("1500m")}}},
					{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
						Metric: id("transactions_processed"), Current: autoscalingv2.MetricValueStatus{AverageValue: q("41")}}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
						Name: v1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageValue: q("7m"), AverageUtilization: new(int32(80))}}},
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
						Name: v1.ResourceMemory, Current: autoscalingv2.MetricValueStatus{AverageValue: q("26335914666m"), AverageUtilization: new(int32(28))}}},
					{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{
						Name: v1.ResourceCPU, Container: "app", Current: autoscalingv2.MetricValueStatus{AverageValue: q("62m"), AverageUtilization: new(int32(6))}}},
					// Zero is a value: a 0 series.
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{
						Metric: id("sqs_jobs"), Current: autoscalingv2.MetricValueStatus{Value: q("0"), AverageValue: q("2900m")}}},
					// Skipped: unset source, unknown type, no current values.
					{Type: autoscalingv2.ContainerResourceMetricSourceType},
					{Type: "", Resource: &autoscalingv2.ResourceMetricStatus{
						Name: v1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(1))}}},
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Metric: id("events")}},
				},
				Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
					{Type: autoscalingv2.AbleToScale, Status: v1.ConditionTrue, Reason: "ReadyForNewScale"},
					{Type: autoscalingv2.ScalingActive, Status: v1.ConditionFalse, Reason: "FailedGetResourceMetric"},
					{Type: autoscalingv2.ScalingLimited, Status: v1.ConditionUnknown},
				},
			},
		}},
		// spec.minReplicas unset is reported as 1, and an empty apiVersion drops
		// scaletargetref_api_version.
		{name: "defaults", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "hpa2", Namespace: "ns2", UID: "h2", CreationTimestamp: created, Generation: 1},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "StatefulSet", Name: "db"},
				MaxReplicas:    3,
			},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, DesiredReplicas: 1},
		}},
		// Tolerances use AsApproximateFloat64, so 100u is 9.999999999999999e-05
		// rather than 0.0001 or 0.001, while targets use milli precision rounded
		// up: 1u becomes 0.001. Past MaxMilliValue the whole value is taken.
		{name: "tolerances-and-precision", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "hpa3", Namespace: "ns1", UID: "h3", CreationTimestamp: created},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(0)),
				MaxReplicas:    5,
				Metrics: []autoscalingv2.MetricSpec{
					{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
						Metric: id("queue_depth"), Target: autoscalingv2.MetricTarget{Value: q("2e16"), AverageValue: q("1u")}}},
				},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp:   &autoscalingv2.HPAScalingRules{Tolerance: q("50m")},
					ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: q("100u")},
				},
			},
		}},
		// A behavior without tolerances, or with only one direction, emits no
		// tolerance series for the missing ones.
		{name: "behavior-without-tolerance", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "hpa4", Namespace: "ns1", UID: "h4", CreationTimestamp: created},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MaxReplicas:    5,
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(0))},
					ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: q("0.2")},
				},
			},
		}},
		{name: "deleting-with-allowlists", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "hpa5", Namespace: "ns1", UID: "h5", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 3,
				Labels:      map[string]string{"app": "web", "app.kubernetes.io/part-of": "shop"},
				Annotations: map[string]string{"app": "web", "other": "no"}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MaxReplicas:    5,
			},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		{name: "allowlist-without-matches", obj: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns1", UID: "h6",
				Labels: map[string]string{"other": "no"}},
		}, opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"owner"}}},
		{name: "empty", obj: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "h7"}}},
	})
}
