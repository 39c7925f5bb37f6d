package collectors

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ingressClassResource is the ingressclasses resource.
func ingressClassResource() Resource {
	return &resource[*networkingv1.IngressClass]{
		name:       "ingressclasses",
		nonDefault: true,
		newObject:  func() *networkingv1.IngressClass { return &networkingv1.IngressClass{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.NetworkingV1().IngressClasses().List, c.NetworkingV1().IngressClasses().Watch)
		},
		objectLabels: func(i *networkingv1.IngressClass) []Label { return []Label{{Name: "ingressclass", Value: i.Name}} },
		families:     ingressClassFamilies,
	}
}

func ingressClassFamilies(o Options) []Family[*networkingv1.IngressClass] {
	return []Family[*networkingv1.IngressClass]{
		{
			Name: "kube_ingressclass_info", Help: "Information about ingressclass.", Type: Gauge, Stability: Alpha,
			Gen: func(i *networkingv1.IngressClass) []Metric { return []Metric{m(1, "controller", i.Spec.Controller)} },
		},
		createdFamily[*networkingv1.IngressClass]("ingressclass", Alpha),
		annotationsFamily[*networkingv1.IngressClass]("ingressclass", Alpha, o.AllowAnnotations),
		labelsFamily[*networkingv1.IngressClass]("ingressclass", Alpha, o.AllowLabels),
	}
}
