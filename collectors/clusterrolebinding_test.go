package collectors

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClusterRoleBindingGolden(t *testing.T) {
	runGolden(t, "clusterrolebindings", []goldenCase{
		{name: "cluster-role-ref", obj: &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin", UID: "u1",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "42"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "system:masters"}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		}},
		{name: "allowlists", obj: &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "view-all", UID: "u2",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "43",
				Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"app": "x", "other": "y"}},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		// An empty roleRef (invalid) drops both labels; no timestamp, non-numeric RV.
		{name: "empty-role-ref", obj: &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "broken", UID: "u3", ResourceVersion: "x"},
		}},
	})
}
