package collectors

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRoleGolden(t *testing.T) {
	runGolden(t, "roles", []goldenCase{
		{name: "basic", obj: &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "ns1", UID: "u1",
				CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "42",
				Labels: map[string]string{"app": "x"}},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}},
		}},
		{name: "allowlists-no-created-unparseable-rv", obj: &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "writer", Namespace: "ns2", UID: "u2", ResourceVersion: "v1",
				Labels:      map[string]string{"app.kubernetes.io/name": "x", "team": "a"},
				Annotations: map[string]string{"app": "x", "other": "y"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}

// TestRBACResourcesScope checks what KSM's resource table says of the RBAC
// resources: none is watched by default, and roles and rolebindings are namespaced.
func TestRBACResourcesScope(t *testing.T) {
	for name, namespaced := range map[string]bool{
		"roles": true, "rolebindings": true, "clusterroles": false, "clusterrolebindings": false,
	} {
		rs, err := Lookup([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Default() {
			t.Errorf("%s is watched by default", name)
		}
		if rs[0].Namespaced() != namespaced {
			t.Errorf("%s: namespaced %v, want %v", name, rs[0].Namespaced(), namespaced)
		}
	}
}
