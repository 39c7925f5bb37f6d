package collectors

import (
	"maps"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// secretResource is the secrets resource.
func secretResource() Resource {
	return &resource[*v1.Secret]{
		name:       "secrets",
		namespaced: true,
		newObject:  func() *v1.Secret { return &v1.Secret{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Secrets(ns).List, c.CoreV1().Secrets(ns).Watch)
		},
		objectLabels: func(s *v1.Secret) []Label {
			return []Label{{Name: "namespace", Value: s.Namespace}, {Name: "secret", Value: s.Name}}
		},
		families: secretFamilies,
	}
}

func secretFamilies(o Options) []Family[*v1.Secret] {
	rv := resourceVersionFamily[*v1.Secret]("secret", Alpha)
	rv.Help = "Resource version representing a specific version of secret."
	return []Family[*v1.Secret]{
		{
			Name: "kube_secret_info", Help: "Information about secret.", Type: Gauge, Stability: Stable,
			Gen: func(*v1.Secret) []Metric { return one(1) },
		},
		{
			Name: "kube_secret_type", Help: "Type about secret.", Type: Gauge, Stability: Stable,
			Gen: func(s *v1.Secret) []Metric { return []Metric{m(1, "type", string(s.Type))} },
		},
		secretAnnotationsFamily(o.AllowAnnotations),
		labelsFamily[*v1.Secret]("secret", Stable, o.AllowLabels),
		createdFamily[*v1.Secret]("secret", Stable),
		rv,
		{
			Name: "kube_secret_owner", Help: "Information about the Secret's owner.", Type: Gauge, Stability: Alpha,
			Gen: func(s *v1.Secret) []Metric { return ownerMetrics(s.OwnerReferences, true) },
		},
	}
}

// lastApplied is the annotation kubectl apply writes: the whole object as
// applied, for a Secret its data in clear text.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// secretAnnotationsFamily is kube_secret_annotations without the
// last-applied-configuration annotation, even when the allowlist names it or
// is "*": the Secret's data must never leave the agent.
func secretAnnotationsFamily(allow []string) Family[*v1.Secret] {
	return mapFamily[*v1.Secret]("kube_secret_annotations", "Kubernetes annotations converted to Prometheus labels.",
		"annotation", Alpha, allow, func(s *v1.Secret) map[string]string {
			a := s.GetAnnotations()
			if _, ok := a[lastApplied]; !ok {
				return a
			}
			a = maps.Clone(a)
			delete(a, lastApplied)
			return a
		})
}
