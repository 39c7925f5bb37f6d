package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestIngressGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	nginx, group := "nginx", "storage.k8s.io"
	exact, prefix := networkingv1.PathTypeExact, networkingv1.PathTypePrefix
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "ns1", UID: types.UID("u-" + name), CreationTimestamp: created, ResourceVersion: "123456"}
	}
	withAnnotations := func(om metav1.ObjectMeta, a map[string]string) metav1.ObjectMeta {
		om.Annotations = a
		return om
	}
	svc := func(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
	}
	runGolden(t, "ingresses", []goldenCase{
		// No class: ingressclass="_default"; no rules or TLS: no path or tls series.
		{name: "default-class", obj: &networkingv1.Ingress{ObjectMeta: meta("ing1")}},
		{name: "class-name", obj: &networkingv1.Ingress{ObjectMeta: meta("ing2"),
			Spec: networkingv1.IngressSpec{IngressClassName: &nginx}}},
		// The legacy annotation wins over spec.ingressClassName.
		{name: "class-annotation-overrides-class-name", obj: &networkingv1.Ingress{
			ObjectMeta: withAnnotations(meta("ing3"), map[string]string{"kubernetes.io/ingress.class": "traefik"}),
			Spec:       networkingv1.IngressSpec{IngressClassName: &nginx}}},
		// An empty annotation still wins: ingressclass="" is dropped.
		{name: "empty-class-annotation", obj: &networkingv1.Ingress{
			ObjectMeta: withAnnotations(meta("ing4"), map[string]string{"kubernetes.io/ingress.class": ""})}},
		{name: "paths-and-tls", obj: &networkingv1.Ingress{ObjectMeta: meta("ing5"),
			Spec: networkingv1.IngressSpec{
				// The default backend is not a rule path: no series.
				DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback",
					Port: networkingv1.ServiceBackendPort{Number: 80}}},
				Rules: []networkingv1.IngressRule{
					{Host: "a.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{
							{Path: "/api", PathType: &prefix, Backend: svc("api", networkingv1.ServiceBackendPort{Number: 8080})},
							// A named port is reported as service_port="0".
							{Path: "/web", PathType: &exact, Backend: svc("web", networkingv1.ServiceBackendPort{Name: "http"})},
							{Path: "/static", PathType: &prefix, Backend: networkingv1.IngressBackend{
								Resource: &v1.TypedLocalObjectReference{APIGroup: &group, Kind: "StorageBucket", Name: "assets"}}},
							// No pathType and no apiGroup: path_type and resource_api_group are empty.
							{Path: "/legacy", Backend: networkingv1.IngressBackend{
								Resource: &v1.TypedLocalObjectReference{Kind: "Bucket", Name: "old"}}},
							// A path without a backend is invalid: no series.
							{Path: "/broken", PathType: &prefix},
							// A repeated path gives one series.
							{Path: "/api", PathType: &prefix, Backend: svc("api", networkingv1.ServiceBackendPort{Number: 8080})},
						},
					}}},
					// A rule without HTTP gives no series.
					{Host: "nohttp.example.com"},
					// A rule without host: host="" is dropped.
					{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: svc("catchall",
							networkingv1.ServiceBackendPort{Number: 80})}},
					}}},
				},
				TLS: []networkingv1.IngressTLS{
					{Hosts: []string{"a.example.com", "b.example.com"}, SecretName: "tls-ab"},
					{SecretName: "tls-nohosts"},        // no hosts: no series
					{Hosts: []string{"c.example.com"}}, // no secret: secret="" is dropped
				},
			}}},
		{name: "allowlists-no-created-unparseable-rv", obj: &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "ing6", Namespace: "ns2", UID: "u6", ResourceVersion: "abc",
				Labels:      map[string]string{"app.kubernetes.io/name": "shop", "team": "a"},
				Annotations: map[string]string{"app": "shop", "kubernetes.io/ingress.class": "nginx"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		// The allowlists cover the resource but no key matches: one series with only the object's labels.
		{name: "allowlists-without-matches", obj: &networkingv1.Ingress{ObjectMeta: meta("ing7")},
			opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"owner"}}},
	})
}
