package collectors

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// limitRangeResource is the limitranges resource.
func limitRangeResource() Resource {
	return &resource[*v1.LimitRange]{
		name:       "limitranges",
		namespaced: true,
		newObject:  func() *v1.LimitRange { return &v1.LimitRange{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().LimitRanges(ns).List, c.CoreV1().LimitRanges(ns).Watch)
		},
		objectLabels: func(r *v1.LimitRange) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "limitrange", Value: r.Name}}
		},
		families: limitRangeFamilies,
	}
}

func limitRangeFamilies(Options) []Family[*v1.LimitRange] {
	return []Family[*v1.LimitRange]{
		{
			Name: "kube_limitrange", Help: "Information about limit range.", Type: Gauge, Stability: Stable,
			Gen: func(r *v1.LimitRange) []Metric {
				var out []Metric
				for _, item := range r.Spec.Limits {
					for _, c := range []struct {
						name string
						rl   v1.ResourceList
					}{
						{"min", item.Min},
						{"max", item.Max},
						{"default", item.Default},
						{"defaultRequest", item.DefaultRequest},
						{"maxLimitRequestRatio", item.MaxLimitRequestRatio},
					} {
						for _, name := range sortedResourceListNames(c.rl) {
							q := c.rl[name]
							// Every resource, not only cpu, is in thousandths.
							out = append(out, m(float64(q.MilliValue())/1000,
								"resource", string(name), "type", string(item.Type), "constraint", c.name))
						}
					}
				}
				return out
			},
		},
		createdFamily[*v1.LimitRange]("limitrange", Stable),
	}
}
