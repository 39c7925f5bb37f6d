package ha

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// LeaseRules returns the RBAC rules leader mode needs, for a Role bound in the
// lease namespace: create on leases, and get, update and watch on the named
// Leases (on all leases when no name is given). Create cannot be narrowed to a
// name: RBAC does not know the name of an object being created. A standby
// watches its Lease with a metadata.name field selector, which RBAC checks
// against the name. Nothing else is needed: no list, no events.
func LeaseRules(leaseNames ...string) []rbacv1.PolicyRule {
	group, resource := []string{"coordination.k8s.io"}, []string{"leases"}
	if len(leaseNames) == 0 {
		return []rbacv1.PolicyRule{{APIGroups: group, Resources: resource, Verbs: []string{"get", "create", "update", "watch"}}}
	}
	names := slices.Clone(leaseNames)
	slices.Sort(names)
	names = slices.Compact(names)
	return []rbacv1.PolicyRule{
		{APIGroups: group, Resources: resource, Verbs: []string{"create"}},
		{APIGroups: group, Resources: resource, ResourceNames: names, Verbs: []string{"get", "update", "watch"}},
	}
}
