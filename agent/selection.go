package agent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dlclark/regexp2"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// ParseAllowList parses kube-state-metrics' allowlist grammar, as taken by
// --metric-labels-allowlist and --metric-annotations-allowlist:
// "pods=[app,team-*],*=[*]". Keys are resource names or "*".
func ParseAllowList(s string) (map[string][]string, error) {
	out := map[string][]string{}
	rest := strings.TrimSpace(s)
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("%q: want resource=[key,...]", rest)
		}
		res := strings.TrimSpace(rest[:eq])
		rest = strings.TrimSpace(rest[eq+1:])
		if res == "" {
			return nil, fmt.Errorf("empty resource name before %q", "="+rest)
		}
		if !strings.HasPrefix(rest, "[") {
			return nil, fmt.Errorf("%q: want [key,...] after %q", res+"="+rest, res+"=")
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("%q: missing ]", res+"="+rest)
		}
		var keys []string
		for _, k := range strings.Split(rest[1:end], ",") {
			if k = strings.TrimSpace(k); k != "" {
				if strings.Count(k, "*") > 1 {
					return nil, fmt.Errorf("%q: key %q has more than one *", res, k)
				}
				keys = append(keys, k)
			}
		}
		out[res] = append(out[res], keys...)
		rest = strings.TrimSpace(rest[end+1:])
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("%q: want , between entries, got %q", res, rest)
			}
			rest = strings.TrimSpace(rest[1:])
		}
	}
	return out, nil
}

// resolveAllowList returns the per-resource lists an allowlist gives the
// enabled resources. As in kube-state-metrics, a "*" entry takes precedence over
// every other one; a resource that does not exist is an error.
func resolveAllowList(flag string, list map[string][]string, enabled []collectors.Resource) (map[string][]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	for res := range list {
		if res != "*" && !slices.Contains(collectors.Names(), res) {
			return nil, configErrorf("%s: unknown resource %q (valid: *, %s)", flag, res, strings.Join(collectors.Names(), ", "))
		}
	}
	all, ok := list["*"]
	if !ok {
		return list, nil
	}
	out := make(map[string][]string, len(enabled))
	for _, r := range enabled {
		out[r.Name()] = all
	}
	return out, nil
}

// regexList is a comma-separated list of unanchored ECMAScript regexes, the
// flavour kube-state-metrics uses for its metric allow, deny and opt-in lists.
type regexList []*regexp2.Regexp

func compileRegexList(flag string, exprs []string) (regexList, error) {
	var out regexList
	for _, e := range exprs {
		re, err := regexp2.Compile(e, regexp2.ECMAScript)
		if err != nil {
			return nil, configErrorf("%s: %q: %v", flag, e, err)
		}
		re.MatchTimeout = time.Minute
		out = append(out, re)
	}
	return out, nil
}

func (l regexList) matches(s string) bool {
	for _, re := range l {
		if ok, err := re.MatchString(s); ok && err == nil {
			return true
		}
	}
	return false
}

// familyFilter applies --metric-allowlist, --metric-denylist and
// --metric-opt-in-list: a family is kept if the allowlist (when given) matches
// it, the denylist does not, and, for opt-in families, the opt-in list does.
func familyFilter(c *Config) (func(collectors.FamilyInfo) bool, error) {
	if len(c.MetricAllowlist) > 0 && len(c.MetricDenylist) > 0 {
		return nil, configErrorf("--metric-allowlist and --metric-denylist are mutually exclusive")
	}
	allow, err := compileRegexList("--metric-allowlist", c.MetricAllowlist)
	if err != nil {
		return nil, err
	}
	deny, err := compileRegexList("--metric-denylist", c.MetricDenylist)
	if err != nil {
		return nil, err
	}
	optIn, err := compileRegexList("--metric-opt-in-list", c.MetricOptInList)
	if err != nil {
		return nil, err
	}
	return func(f collectors.FamilyInfo) bool {
		if len(allow) > 0 && !allow.matches(f.Name) {
			return false
		}
		if deny.matches(f.Name) {
			return false
		}
		return !f.OptIn || optIn.matches(f.Name)
	}, nil
}

// watchNamespaces returns the namespaces a namespaced resource is watched in
// ("" for all) and the field selector that excludes denied namespaces.
func watchNamespaces(c *Config) ([]string, string) {
	if len(c.Namespaces) > 0 {
		var ns []string
		for _, n := range c.Namespaces {
			if !slices.Contains(c.NamespacesDenylist, n) {
				ns = append(ns, n)
			}
		}
		return ns, ""
	}
	var sel []string
	for _, n := range c.NamespacesDenylist {
		sel = append(sel, "metadata.namespace!="+n)
	}
	return []string{""}, strings.Join(sel, ",")
}
