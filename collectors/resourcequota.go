package collectors

import (
	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// resourceQuotaResource is the resourcequotas resource.
func resourceQuotaResource() Resource {
	return &resource[*v1.ResourceQuota]{
		name:       "resourcequotas",
		namespaced: true,
		newObject:  func() *v1.ResourceQuota { return &v1.ResourceQuota{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().ResourceQuotas(ns).List, c.CoreV1().ResourceQuotas(ns).Watch)
		},
		objectLabels: func(r *v1.ResourceQuota) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "resourcequota", Value: r.Name}}
		},
		families: resourceQuotaFamilies,
	}
}

func resourceQuotaFamilies(o Options) []Family[*v1.ResourceQuota] {
	return []Family[*v1.ResourceQuota]{
		createdFamily[*v1.ResourceQuota]("resourcequota", Stable),
		{
			Name: "kube_resourcequota", Help: "Information about resource quota.", Type: Gauge, Stability: Stable,
			Gen: func(r *v1.ResourceQuota) []Metric {
				out := make([]Metric, 0, len(r.Status.Hard)+len(r.Status.Used))
				for _, s := range []struct {
					typ string
					rl  v1.ResourceList
				}{{"hard", r.Status.Hard}, {"used", r.Status.Used}} {
					for _, name := range sortedResourceListNames(s.rl) {
						q := s.rl[name]
						out = append(out, m(quotaValue(q), "resource", string(name), "type", s.typ))
					}
				}
				return out
			},
		},
		annotationsFamily[*v1.ResourceQuota]("resourcequota", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.ResourceQuota]("resourcequota", Stable, o.AllowLabels),
	}
}

// quotaValue is a quantity in units, with thousandths, as KSM converts quota
// quantities: values too large for milli-units are taken whole, rather than
// letting MilliValue saturate.
func quotaValue(q apiresource.Quantity) float64 {
	if v := q.Value(); v > apiresource.MaxMilliValue {
		return float64(v)
	}
	return float64(q.MilliValue()) / 1000
}
