package collectors

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// roleBindingResource is the rolebindings resource.
func roleBindingResource() Resource {
	return &resource[*rbacv1.RoleBinding]{
		name:       "rolebindings",
		namespaced: true,
		nonDefault: true,
		newObject:  func() *rbacv1.RoleBinding { return &rbacv1.RoleBinding{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.RbacV1().RoleBindings(ns).List, c.RbacV1().RoleBindings(ns).Watch)
		},
		objectLabels: func(r *rbacv1.RoleBinding) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "rolebinding", Value: r.Name}}
		},
		families: func(o Options) []Family[*rbacv1.RoleBinding] {
			return rbacFamilies("rolebinding", "rolebinding", o, func(r *rbacv1.RoleBinding) []Metric { return roleRefInfo(r.RoleRef) })
		},
	}
}
