package collectors

import (
	"os"
	"strings"
	"testing"
)

// TestRBACDoc keeps docs/rbac.md in step with the registry: it must list every
// resource with its API group, and the rules for the default set and for all.
func TestRBACDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString(rbacDocHeader)
	b.WriteString("| resource | API group | default | verbs |\n|---|---|---|---|\n")
	for _, r := range All() {
		group := APIGroup(r)
		if group == "" {
			group = `"" (core)`
		}
		def := "yes"
		if !r.Default() {
			def = "no"
		}
		b.WriteString("| " + r.Name() + " | " + group + " | " + def + " | " + strings.Join(RBACVerbs, ", ") + " |\n")
	}
	defaults, _ := Lookup(DefaultNames())
	b.WriteString("\n## ClusterRole rules for the default resources\n\n```yaml\n" + RBACYAML(RBACRules(defaults)) + "```\n")
	b.WriteString("\n## ClusterRole rules for every resource\n\n```yaml\n" + RBACYAML(RBACRules(All())) + "```\n")
	got := b.String()
	const path = "../docs/rbac.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./collectors -run RBAC -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("docs/rbac.md is out of date; run go test ./collectors -run RBAC -update")
	}
	for _, r := range RBACRules(All()) {
		if len(r.Verbs) != 2 || r.Verbs[0] != "list" || r.Verbs[1] != "watch" {
			t.Errorf("rule %v asks for more than list and watch", r)
		}
	}
}

const rbacDocHeader = `# RBAC

kube-state-push only lists and watches. Each enabled resource needs the verbs
` + "`list`" + ` and ` + "`watch`" + ` on it, in its API group, and nothing else: no get, no
write verbs, no access to other resources. With ` + "`--namespaces`" + `, namespaced
resources need them only in those namespaces (a Role and RoleBinding per
namespace); cluster-scoped resources always need a ClusterRole.
` + "`kube-state-push --print-rbac`" + ` prints the rules for the resources the other flags enable.

Automatic sharding (` + "`--pod`" + `) also needs, in the pod's namespace, ` + "`get`" + ` on pods (its
own) and ` + "`get`" + `, ` + "`list`" + ` and ` + "`watch`" + ` on statefulsets (its own, by a field selector on
the name); ` + "`--print-rbac --pod NAME --pod-namespace NS`" + ` adds them as a Role. Static
sharding (` + "`--shard`" + `, ` + "`--total-shards`" + `) needs nothing more.

This file is generated from the resource registry (` + "`go test ./collectors -run RBAC -update`" + `).

`
