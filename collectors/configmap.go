package collectors

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// configMapResource is the configmaps resource.
func configMapResource() Resource {
	return &resource[*v1.ConfigMap]{
		name:       "configmaps",
		namespaced: true,
		newObject:  func() *v1.ConfigMap { return &v1.ConfigMap{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().ConfigMaps(ns).List, c.CoreV1().ConfigMaps(ns).Watch)
		},
		objectLabels: func(c *v1.ConfigMap) []Label {
			return []Label{{Name: "namespace", Value: c.Namespace}, {Name: "configmap", Value: c.Name}}
		},
		families: configMapFamilies,
	}
}

func configMapFamilies(o Options) []Family[*v1.ConfigMap] {
	return []Family[*v1.ConfigMap]{
		annotationsFamily[*v1.ConfigMap]("configmap", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.ConfigMap]("configmap", Stable, o.AllowLabels),
		{
			Name: "kube_configmap_info", Help: "Information about configmap.", Type: Gauge, Stability: Stable,
			Gen: func(*v1.ConfigMap) []Metric { return one(1) },
		},
		createdFamily[*v1.ConfigMap]("configmap", Stable),
		resourceVersionFamily[*v1.ConfigMap]("configmap", Alpha),
	}
}
