package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResourceQuotaGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "resourcequotas", []goldenCase{
		{name: "hard-and-used", obj: &v1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "quota", Namespace: "ns1", UID: "q1", CreationTimestamp: created},
			Status: v1.ResourceQuotaStatus{
				Hard: v1.ResourceList{
					v1.ResourceRequestsCPU:    apiresource.MustParse("4.3"),
					v1.ResourceLimitsMemory:   apiresource.MustParse("2.1G"),
					"count/pods":              apiresource.MustParse("9"),
					v1.ResourcePods:           apiresource.MustParse("10"),
					"requests.nvidia.com/gpu": apiresource.MustParse("2"),
					// Past MaxMilliValue the whole value is taken.
					v1.ResourceRequestsStorage: apiresource.MustParse("100P"),
				},
				Used: v1.ResourceList{
					v1.ResourceRequestsCPU:    apiresource.MustParse("2100m"),
					v1.ResourceLimitsMemory:   apiresource.MustParse("500M"),
					"count/pods":              apiresource.MustParse("8"),
					v1.ResourcePods:           apiresource.MustParse("0"),
					"requests.nvidia.com/gpu": apiresource.MustParse("1"),
				},
			},
		}},
		{name: "spec-only-no-created", obj: &v1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "fresh", Namespace: "ns2", UID: "q2"},
			// Only status is reported; a quota the controller has not synced has no series.
			Spec: v1.ResourceQuotaSpec{Hard: v1.ResourceList{v1.ResourcePods: apiresource.MustParse("5")}},
		}},
		{name: "allowlists", obj: &v1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns3", UID: "q3", CreationTimestamp: created,
				Labels:      map[string]string{"team": "a"},
				Annotations: map[string]string{"app": "b", "other": "no"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
