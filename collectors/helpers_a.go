package collectors

import (
	"slices"

	v1 "k8s.io/api/core/v1"
)

// sortedResourceListNames returns rl's names in byte order, for a deterministic
// series order. Unlike resourceMetrics, the names are kept raw (requests.cpu).
func sortedResourceListNames(rl v1.ResourceList) []v1.ResourceName {
	names := make([]v1.ResourceName, 0, len(rl))
	for n := range rl {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
