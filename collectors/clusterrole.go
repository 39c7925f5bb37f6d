package collectors

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// clusterRoleResource is the clusterroles resource.
func clusterRoleResource() Resource {
	return &resource[*rbacv1.ClusterRole]{
		name:       "clusterroles",
		nonDefault: true,
		newObject:  func() *rbacv1.ClusterRole { return &rbacv1.ClusterRole{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.RbacV1().ClusterRoles().List, c.RbacV1().ClusterRoles().Watch)
		},
		objectLabels: func(r *rbacv1.ClusterRole) []Label { return []Label{{Name: "clusterrole", Value: r.Name}} },
		families: func(o Options) []Family[*rbacv1.ClusterRole] {
			return rbacFamilies("clusterrole", "cluster role", o, func(*rbacv1.ClusterRole) []Metric { return one(1) })
		},
	}
}
