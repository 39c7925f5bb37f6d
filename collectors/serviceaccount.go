package collectors

import (
	"strconv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// serviceAccountResource is the serviceaccounts resource.
func serviceAccountResource() Resource {
	return &resource[*v1.ServiceAccount]{
		name:       "serviceaccounts",
		namespaced: true,
		nonDefault: true,
		newObject:  func() *v1.ServiceAccount { return &v1.ServiceAccount{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().ServiceAccounts(ns).List, c.CoreV1().ServiceAccounts(ns).Watch)
		},
		// Unlike other resources, every serviceaccount series carries the uid.
		objectLabels: func(s *v1.ServiceAccount) []Label {
			return []Label{
				{Name: "namespace", Value: s.Namespace},
				{Name: "serviceaccount", Value: s.Name},
				{Name: "uid", Value: string(s.UID)},
			}
		},
		families: serviceAccountFamilies,
	}
}

func serviceAccountFamilies(o Options) []Family[*v1.ServiceAccount] {
	// KSM names this family _deleted, not _deletion_timestamp.
	deleted := deletionTimestampFamily[*v1.ServiceAccount]("serviceaccount", Alpha)
	deleted.Name = "kube_serviceaccount_deleted"
	return []Family[*v1.ServiceAccount]{
		{
			Name: "kube_serviceaccount_info", Help: "Information about a service account", Type: Gauge, Stability: Alpha,
			Gen: func(s *v1.ServiceAccount) []Metric {
				automount := ""
				if s.AutomountServiceAccountToken != nil {
					automount = strconv.FormatBool(*s.AutomountServiceAccountToken)
				}
				return []Metric{m(1, "automount_token", automount)}
			},
		},
		createdFamily[*v1.ServiceAccount]("serviceaccount", Alpha),
		deleted,
		{
			Name: "kube_serviceaccount_secret", Help: "Secret being referenced by a service account", Type: Gauge, Stability: Alpha,
			Gen: func(s *v1.ServiceAccount) []Metric {
				out := make([]Metric, 0, len(s.Secrets))
				for _, r := range s.Secrets {
					out = append(out, m(1, "name", r.Name))
				}
				return out
			},
		},
		{
			Name: "kube_serviceaccount_image_pull_secret", Type: Gauge, Stability: Alpha,
			Help: "Secret being referenced by a service account for the purpose of pulling images",
			Gen: func(s *v1.ServiceAccount) []Metric {
				out := make([]Metric, 0, len(s.ImagePullSecrets))
				for _, r := range s.ImagePullSecrets {
					out = append(out, m(1, "name", r.Name))
				}
				return out
			},
		},
		annotationsFamily[*v1.ServiceAccount]("serviceaccount", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.ServiceAccount]("serviceaccount", Alpha, o.AllowLabels),
	}
}
