package collectors

import (
	"fmt"
	"slices"
	"strings"
)

var registry []Resource

// register adds a resource to the registry. Each resource file calls it from
// init, so that adding a resource is adding one file.
func register(r Resource) {
	if slices.ContainsFunc(registry, func(o Resource) bool { return o.Name() == r.Name() }) {
		panic("BUG: resource registered twice: " + r.Name())
	}
	registry = append(registry, r)
	slices.SortFunc(registry, func(a, b Resource) int { return strings.Compare(a.Name(), b.Name()) })
}

// All returns every known resource, sorted by name.
func All() []Resource { return slices.Clone(registry) }

// DefaultNames returns the resources enabled when --resources is not given.
func DefaultNames() []string {
	var names []string
	for _, r := range registry {
		if r.Default() {
			names = append(names, r.Name())
		}
	}
	return names
}

// Names returns the names of every known resource.
func Names() []string {
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.Name()
	}
	return names
}

// Lookup returns the named resources in the given order. An unknown name is an
// error that lists the valid ones.
func Lookup(names []string) ([]Resource, error) {
	var out []Resource
	for _, n := range names {
		i := slices.IndexFunc(registry, func(r Resource) bool { return r.Name() == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown resource %q (valid: %s)", n, strings.Join(Names(), ", "))
		}
		if !slices.Contains(out, registry[i]) {
			out = append(out, registry[i])
		}
	}
	return out, nil
}
