package customresource

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// labelPath is one compiled labelsFromPath entry.
type labelPath struct {
	// name is the sanitised label name; for a star entry, the raw key.
	name string
	// star entries ("*", "prefix_*", "*x") copy every key of the map at p;
	// prefix is what comes before a trailing "*".
	star   bool
	prefix string
	p      path
}

// labelPaths are a level's labelsFromPath: star entries first in key order,
// then the others in key order. KSM ranges over a map for the others, so when
// two keys sanitise to the same name its choice varies; here the last in key
// order wins.
type labelPaths []labelPath

// compileLabelPaths compiles a labelsFromPath map; the error names the key.
func compileLabelPaths(m map[string][]string) (labelPaths, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var stars, plain labelPaths
	for _, k := range keys {
		p, err := compilePath(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if isStar(k) {
			lp := labelPath{name: k, star: true, p: p}
			if strings.HasSuffix(k, "*") {
				lp.prefix = k[:len(k)-1]
			}
			stars = append(stars, lp)
			continue
		}
		plain = append(plain, labelPath{name: collectors.SanitizeLabelName(k), p: p})
	}
	return append(stars, plain...), nil
}

func isStar(k string) bool { return strings.HasPrefix(k, "*") || strings.HasSuffix(k, "*") }

// add sets the labels read from v into out, as KSM's addPathLabels: star
// entries first (a later one overriding an earlier), each copying the map
// at its path with sanitised, prefixed keys (of two keys that sanitise to one
// name the last in key order wins); then the others, skipping nil values.
func (ls labelPaths) add(v any, out map[string]string) {
	for _, l := range ls {
		got := l.p.get(v)
		if !l.star {
			if got != nil {
				out[l.name] = labelValue(got)
			}
			continue
		}
		m, ok := got.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range sortedKeys(m) {
			out[collectors.SanitizeLabelName(l.prefix+k)] = labelValue(m[k])
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
