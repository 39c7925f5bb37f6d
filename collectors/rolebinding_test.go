package collectors

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRoleBindingGolden(t *testing.T) {
	runGolden(t, "rolebindings", []goldenCase{
		{name: "role-ref", obj: &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "read-pods", Namespace: "ns1", UID: "u1",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "42"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "jane"}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		}},
		{name: "cluster-role-ref-allowlists", obj: &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "edit", Namespace: "ns2", UID: "u2",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "43",
				Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"app": "x", "other": "y"}},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		// An empty roleRef (invalid) drops both labels; no timestamp, non-numeric RV.
		{name: "empty-role-ref", obj: &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: "ns3", UID: "u3", ResourceVersion: "x"},
		}},
	})
}
