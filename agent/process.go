package agent

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/customresource"
)

// What the command does besides running the agent: its logger, its memory
// limit and --print-rbac. They are here, not in package main, so that the
// command only parses flags and calls these.

// NewLogger returns the logger of --log-level and --log-format, writing to w.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// memoryRatio is the part of the container's memory limit the Go runtime
// aims to stay under: the rest is for what it does not count (the binary's
// pages, thread stacks) and for the time a collection takes.
const memoryRatio = 0.9

// SetMemoryLimit sets the Go memory limit (GOMEMLIMIT) to memoryRatio of the
// memory limit of the container (its cgroup, read by limit:
// memlimit.FromCgroup), so that the garbage collector works harder before
// the container is killed for going over it. GOMEMLIMIT set in the
// environment wins; AUTOMEMLIMIT sets another ratio, or "off".
func SetMemoryLimit(logger *slog.Logger, limit memlimit.Provider) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	set, err := memlimit.Set(memlimit.WithProvider(limit), memlimit.WithRatio(memoryRatio))
	if err != nil {
		logger.Warn("Could not set the Go memory limit from the container's", "err", err)
		return
	}
	if set != math.MaxInt64 {
		logger.Info("Go memory limit set below the container's", "gomemlimit_bytes", set)
	}
}

// RBACManifest returns, for --print-rbac, the RBAC rules (list and watch)
// the resources of cfg need (with a custom resource state config, also those
// of its custom resources and of discovery), and with --pod those of
// automatic sharding, for a Role in the pod's namespace.
func RBACManifest(cfg Config) (string, error) {
	if err := cfg.loadCustomResources(); err != nil {
		return "", err
	}
	rs, err := cfg.builtinResources()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(collectors.RBACYAML(collectors.RBACRules(rs)))
	for _, r := range customResourceRBACRules(cfg.customResources) {
		b.WriteString("  - apiGroups: [\"" + r.APIGroups[0] + "\"]\n")
		b.WriteString("    resources: [" + strings.Join(quoteStars(r.Resources), ", ") + "]\n")
		b.WriteString("    verbs: [" + strings.Join(r.Verbs, ", ") + "]\n")
	}
	if cfg.Pod != "" {
		fmt.Fprintf(&b, "---\n# Role in namespace %s, for automatic sharding (--pod)\n", cfg.PodNamespace)
		b.WriteString(collectors.RBACYAML(ShardRBACRules()))
	}
	return b.String(), nil
}

// customResourceRBACRules returns the rules the custom resources of crs
// need: list and watch on each resource, by group (resourcePlural or the
// lower-case plural of the kind; every resource of the group for a kind
// wildcard), and get, list and watch on the CustomResourceDefinitions, which
// discovery watches. A resource whose group is empty or "*" matches nothing
// and needs nothing. Nil without custom resources.
func customResourceRBACRules(crs *customresource.Config) []rbacv1.PolicyRule {
	if crs == nil {
		return nil
	}
	byGroup := map[string][]string{}
	for _, r := range crs.Resources {
		g := r.GroupVersionKind.Group
		if g == "" || g == "*" {
			continue
		}
		res := r.Plural()
		if k := r.GroupVersionKind.Kind; k == "" || k == "*" {
			res = "*"
		}
		byGroup[g] = append(byGroup[g], res)
	}
	var rules []rbacv1.PolicyRule
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		names := slices.Compact(slices.Sorted(slices.Values(byGroup[g])))
		if slices.Contains(names, "*") {
			names = []string{"*"}
		}
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: names, Verbs: slices.Clone(collectors.RBACVerbs)})
	}
	return append(rules, rbacv1.PolicyRule{APIGroups: []string{crdGVR.Group}, Resources: []string{crdGVR.Resource},
		Verbs: []string{"get", "list", "watch"}})
}

// quoteStars quotes "*", which YAML would read as an alias.
func quoteStars(names []string) []string {
	out := slices.Clone(names)
	for i, n := range out {
		if n == "*" {
			out[i] = `"*"`
		}
	}
	return out
}
