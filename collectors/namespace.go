package collectors

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// namespaceResource is the namespaces resource.
func namespaceResource() Resource {
	return &resource[*v1.Namespace]{
		name:      "namespaces",
		newObject: func() *v1.Namespace { return &v1.Namespace{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Namespaces().List, c.CoreV1().Namespaces().Watch)
		},
		objectLabels: func(n *v1.Namespace) []Label { return []Label{{Name: "namespace", Value: n.Name}} },
		families:     namespaceFamilies,
	}
}

func namespaceFamilies(o Options) []Family[*v1.Namespace] {
	return []Family[*v1.Namespace]{
		createdFamily[*v1.Namespace]("namespace", Stable),
		annotationsFamily[*v1.Namespace]("namespace", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.Namespace]("namespace", Stable, o.AllowLabels),
		{
			Name: "kube_namespace_status_phase", Help: "kubernetes namespace status phase.", Type: Gauge, Stability: Stable,
			Gen: func(n *v1.Namespace) []Metric {
				return []Metric{
					m(boolFloat(n.Status.Phase == v1.NamespaceActive), "phase", string(v1.NamespaceActive)),
					m(boolFloat(n.Status.Phase == v1.NamespaceTerminating), "phase", string(v1.NamespaceTerminating)),
				}
			},
		},
		{
			Name: "kube_namespace_status_condition", Help: "The condition of a namespace.", Type: Gauge, Stability: Alpha,
			Gen: func(n *v1.Namespace) []Metric {
				var out []Metric
				for _, c := range n.Status.Conditions {
					out = append(out, conditionMetrics("status", c.Status, "condition", string(c.Type))...)
				}
				return out
			},
		},
	}
}
