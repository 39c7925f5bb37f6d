package ha

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestLeaseRules(t *testing.T) {
	group, leases := []string{"coordination.k8s.io"}, []string{"leases"}
	got := LeaseRules()
	want := []rbacv1.PolicyRule{{APIGroups: group, Resources: leases, Verbs: []string{"get", "create", "update", "watch"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LeaseRules() = %+v, want %+v", got, want)
	}
	got = LeaseRules("ksp-shard-1", "ksp-shard-0", "ksp-shard-1")
	want = []rbacv1.PolicyRule{
		{APIGroups: group, Resources: leases, Verbs: []string{"create"}},
		{APIGroups: group, Resources: leases, ResourceNames: []string{"ksp-shard-0", "ksp-shard-1"}, Verbs: []string{"get", "update", "watch"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LeaseRules(names) = %+v, want %+v", got, want)
	}
}
