package collectors

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// clusterRoleBindingResource is the clusterrolebindings resource.
func clusterRoleBindingResource() Resource {
	return &resource[*rbacv1.ClusterRoleBinding]{
		name:       "clusterrolebindings",
		nonDefault: true,
		newObject:  func() *rbacv1.ClusterRoleBinding { return &rbacv1.ClusterRoleBinding{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.RbacV1().ClusterRoleBindings().List, c.RbacV1().ClusterRoleBindings().Watch)
		},
		objectLabels: func(r *rbacv1.ClusterRoleBinding) []Label {
			return []Label{{Name: "clusterrolebinding", Value: r.Name}}
		},
		families: func(o Options) []Family[*rbacv1.ClusterRoleBinding] {
			return rbacFamilies("clusterrolebinding", "clusterrolebinding", o,
				func(r *rbacv1.ClusterRoleBinding) []Metric { return roleRefInfo(r.RoleRef) })
		},
	}
}
