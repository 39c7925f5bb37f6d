package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLimitRangeGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "limitranges", []goldenCase{
		{name: "every-constraint", obj: &v1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "ns1", UID: "l1", CreationTimestamp: created},
			Spec: v1.LimitRangeSpec{Limits: []v1.LimitRangeItem{
				{
					Type:           v1.LimitTypeContainer,
					Min:            v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("100m"), v1.ResourceMemory: apiresource.MustParse("64Mi")},
					Max:            v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("2"), v1.ResourceMemory: apiresource.MustParse("1Gi")},
					Default:        v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("500m"), "nvidia.com/gpu": apiresource.MustParse("1")},
					DefaultRequest: v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("250m"), v1.ResourceEphemeralStorage: apiresource.MustParse("1G")},
					// A ratio keeps its fraction, as every resource is in thousandths.
					MaxLimitRequestRatio: v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("1500m"), v1.ResourceMemory: apiresource.MustParse("2")},
				},
				{Type: v1.LimitTypePod, Max: v1.ResourceList{v1.ResourceCPU: apiresource.MustParse("4")}},
				{Type: v1.LimitTypePersistentVolumeClaim, Min: v1.ResourceList{v1.ResourceStorage: apiresource.MustParse("1Gi")}},
			}},
		}},
		{name: "empty", obj: &v1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: "none", Namespace: "ns2", UID: "l2"},
		}},
	})
}
