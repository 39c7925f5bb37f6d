package collectors

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ingressResource is the ingresses resource.
func ingressResource() Resource {
	return &resource[*networkingv1.Ingress]{
		name:       "ingresses",
		namespaced: true,
		newObject:  func() *networkingv1.Ingress { return &networkingv1.Ingress{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.NetworkingV1().Ingresses(ns).List, c.NetworkingV1().Ingresses(ns).Watch)
		},
		objectLabels: func(i *networkingv1.Ingress) []Label {
			return []Label{{Name: "namespace", Value: i.Namespace}, {Name: "ingress", Value: i.Name}}
		},
		families: ingressFamilies,
	}
}

// ingressClass is KSM's ingressclass label: "_default" without a class, else
// spec.ingressClassName, overridden by the legacy kubernetes.io/ingress.class
// annotation whenever that annotation is present (even when empty).
func ingressClass(i *networkingv1.Ingress) string {
	class := "_default"
	if i.Spec.IngressClassName != nil {
		class = *i.Spec.IngressClassName
	}
	if a, ok := i.Annotations["kubernetes.io/ingress.class"]; ok {
		class = a
	}
	return class
}

// ingressPaths is one series per HTTP rule path. A service backend gives
// service_name and service_port (the port number; "0" for a named port), a
// resource backend gives resource_api_group, resource_kind and resource_name.
// A path with neither backend is invalid and gives no series.
func ingressPaths(i *networkingv1.Ingress) []Metric {
	var out []Metric
	for _, rule := range i.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			var pathType string
			if p.PathType != nil {
				pathType = string(*p.PathType)
			}
			switch b := p.Backend; {
			case b.Service != nil:
				out = append(out, m(1, "host", rule.Host, "path", p.Path, "path_type", pathType,
					"service_name", b.Service.Name, "service_port", strconv.Itoa(int(b.Service.Port.Number))))
			case b.Resource != nil:
				var apiGroup string
				if b.Resource.APIGroup != nil {
					apiGroup = *b.Resource.APIGroup
				}
				out = append(out, m(1, "host", rule.Host, "path", p.Path, "path_type", pathType,
					"resource_api_group", apiGroup, "resource_kind", b.Resource.Kind, "resource_name", b.Resource.Name))
			}
		}
	}
	return out
}

func ingressFamilies(o Options) []Family[*networkingv1.Ingress] {
	rv := resourceVersionFamily[*networkingv1.Ingress]("ingress", Alpha)
	rv.Help = "Resource version representing a specific version of ingress."
	return []Family[*networkingv1.Ingress]{
		{
			Name: "kube_ingress_info", Help: "Information about ingress.", Type: Gauge, Stability: Stable,
			Gen: func(i *networkingv1.Ingress) []Metric { return []Metric{m(1, "ingressclass", ingressClass(i))} },
		},
		annotationsFamily[*networkingv1.Ingress]("ingress", Alpha, o.AllowAnnotations),
		labelsFamily[*networkingv1.Ingress]("ingress", Stable, o.AllowLabels),
		createdFamily[*networkingv1.Ingress]("ingress", Stable),
		rv,
		{
			Name: "kube_ingress_path", Help: "Ingress host, paths and backend service information.", Type: Gauge, Stability: Stable,
			Gen: ingressPaths,
		},
		{
			Name: "kube_ingress_tls", Help: "Ingress TLS host and secret information.", Type: Gauge, Stability: Stable,
			// One series per host of each TLS entry; an entry without hosts gives none.
			Gen: func(i *networkingv1.Ingress) []Metric {
				var out []Metric
				for _, tls := range i.Spec.TLS {
					for _, host := range tls.Hosts {
						out = append(out, m(1, "tls_host", host, "secret", tls.SecretName))
					}
				}
				return out
			},
		},
	}
}
