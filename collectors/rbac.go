package collectors

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// RBACVerbs are the only verbs the agent needs on what it watches.
var RBACVerbs = []string{"list", "watch"}

// APIGroup returns the API group the resource is served from ("" for core).
func APIGroup(r Resource) string {
	gvks, _, err := scheme.Scheme.ObjectKinds(r.ExpectedType())
	if err != nil || len(gvks) == 0 {
		panic("BUG: resource type not in the client-go scheme: " + r.Name())
	}
	return gvks[0].Group
}

// RBACRules returns the rules a ClusterRole (or Role) needs to watch rs: list
// and watch on each resource, one rule per API group, sorted.
func RBACRules(rs []Resource) []rbacv1.PolicyRule {
	byGroup := map[string][]string{}
	for _, r := range rs {
		g := APIGroup(r)
		byGroup[g] = append(byGroup[g], r.Name())
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	rules := make([]rbacv1.PolicyRule, 0, len(groups))
	for _, g := range groups {
		names := slices.Compact(slices.Sorted(slices.Values(byGroup[g])))
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: names, Verbs: slices.Clone(RBACVerbs)})
	}
	return rules
}

// RBACYAML renders rules as the rules: section of a ClusterRole.
func RBACYAML(rules []rbacv1.PolicyRule) string {
	var b strings.Builder
	b.WriteString("rules:\n")
	for _, r := range rules {
		b.WriteString("  - apiGroups: [\"" + r.APIGroups[0] + "\"]\n")
		b.WriteString("    resources: [" + strings.Join(r.Resources, ", ") + "]\n")
		b.WriteString("    verbs: [" + strings.Join(r.Verbs, ", ") + "]\n")
	}
	return b.String()
}
