package collectors

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClusterRoleGolden(t *testing.T) {
	runGolden(t, "clusterroles", []goldenCase{
		{name: "basic", obj: &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "view", UID: "u1",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "42"},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}},
		}},
		{name: "allowlists-no-created-unparseable-rv", obj: &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "system:aggregate-to-edit", UID: "u2", ResourceVersion: "v1",
				Labels:      map[string]string{"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
				Annotations: map[string]string{"app": "x", "rbac.authorization.kubernetes.io/autoupdate": "true"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
