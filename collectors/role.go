package collectors

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// roleResource is the roles resource.
func roleResource() Resource {
	return &resource[*rbacv1.Role]{
		name:       "roles",
		namespaced: true,
		nonDefault: true,
		newObject:  func() *rbacv1.Role { return &rbacv1.Role{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.RbacV1().Roles(ns).List, c.RbacV1().Roles(ns).Watch)
		},
		objectLabels: func(r *rbacv1.Role) []Label {
			return []Label{{Name: "namespace", Value: r.Namespace}, {Name: "role", Value: r.Name}}
		},
		families: func(o Options) []Family[*rbacv1.Role] {
			return rbacFamilies("role", "role", o, func(*rbacv1.Role) []Metric { return one(1) })
		},
	}
}
