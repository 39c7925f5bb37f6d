package parity

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// ScopeQuery returns the PromQL selector for every series of the resources
// the exposition covers: the names kube_<kind> and kube_<kind>_* for each kind
// among its family names (self-metrics, kube_state_*, excluded). It fails when
// the exposition names no resource.
func ScopeQuery(e Exposition) (string, error) {
	kinds := scopeKinds(e)
	if len(kinds) == 0 {
		return "", fmt.Errorf("exposition has no kube_<kind> family")
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, regexp.QuoteMeta(k))
	}
	sort.Strings(names)
	return fmt.Sprintf(`{__name__=~"kube_(%s)(_.+)?"}`, strings.Join(names, "|")), nil
}

// scopeKinds returns the resource tokens of the exposition's families.
func scopeKinds(e Exposition) map[string]bool {
	kinds := map[string]bool{}
	for name := range e.Families {
		if k, ok := resourceToken(name); ok {
			kinds[k] = true
		}
	}
	return kinds
}

// Compare matches KSM's series with Prometheus's. Every KSM series is looked up
// by its label set; Prometheus series of a KSM family without a KSM
// counterpart are extra, and Prometheus series of a family KSM does not
// announce (among the kinds KSM covers) make an extra family. Values agree
// when equal, both NaN, or, for a time-valued family, within tolerance.
func Compare(e Exposition, prom []Series, tolerance time.Duration) Report {
	tol := tolerance.Seconds()
	kinds := scopeKinds(e)
	promByKey := make(map[string]Series, len(prom))
	for _, s := range prom {
		promByKey[s.Key()] = s
	}
	r := Report{Families: map[string]*FamilyDiff{}, ExtraFamilies: map[string][]Series{}}
	seen := make(map[string]bool, len(prom))
	for _, name := range e.FamilyNames() {
		if len(e.Families[name]) == 0 {
			r.EmptyFamilies = append(r.EmptyFamilies, name)
		}
		for _, k := range e.Families[name] {
			if d, ok := intendedDifference(name, k); ok {
				k = d
				r.Intended++
			}
			key := k.Key()
			if seen[key] {
				// Two KSM series that differ only in empty labels are one series
				// in Prometheus; the first sample wins there as here.
				r.DuplicateKSM = append(r.DuplicateKSM, k)
				continue
			}
			seen[key] = true
			r.KSMSeries++
			p, ok := promByKey[key]
			switch {
			case !ok:
				r.family(name).Missing = append(r.family(name).Missing, k)
			case !sameValue(name, k.Value, p.Value, tol):
				r.family(name).Differing = append(r.family(name).Differing,
					ValueDiff{Key: key, KSM: k.Value, Prometheus: p.Value})
			default:
				r.Matched++
			}
		}
	}
	for _, p := range prom {
		key := p.Key()
		if seen[key] {
			continue
		}
		name := p.Name
		if _, ok := e.Families[name]; ok {
			r.family(name).Extra = append(r.family(name).Extra, p)
			continue
		}
		if k, ok := resourceToken(name); ok && kinds[k] {
			r.ExtraFamilies[name] = append(r.ExtraFamilies[name], p)
		}
	}
	r.sort()
	return r
}

// lastAppliedLabel is the label KSM makes of kubectl's last-applied
// annotation, which for a Secret holds its data in clear text.
const lastAppliedLabel = "annotation_kubectl_kubernetes_io_last_applied_configuration"

// intendedDifference returns the series kube-state-push makes instead of KSM's
// series k, and true, where it differs on purpose: kube_secret_annotations
// never carries the last-applied annotation.
func intendedDifference(family string, k Series) (Series, bool) {
	if family != "kube_secret_annotations" {
		return k, false
	}
	i := slices.IndexFunc(k.Labels, func(l Label) bool { return l.Name == lastAppliedLabel })
	if i < 0 {
		return k, false
	}
	k.Labels = slices.Delete(slices.Clone(k.Labels), i, i+1)
	return k, true
}
