package collectors

import (
	"fmt"
	"slices"
	"strings"
)

// registry is every resource the agent knows, in name order. It is one
// explicit list rather than an init function per resource file, so that what
// is compiled in, and in which order, reads in one place: adding a resource is
// adding its file and its line here.
var registry = newRegistry(
	[]Resource{
		certificateSigningRequestResource(),
		clusterRoleBindingResource(),
		clusterRoleResource(),
		configMapResource(),
		cronJobResource(),
		daemonSetResource(),
		deploymentResource(),
		endpointsResource(),
		endpointSliceResource(),
		horizontalPodAutoscalerResource(),
		ingressClassResource(),
		ingressResource(),
		jobResource(),
		leaseResource(),
		limitRangeResource(),
		mutatingAdmissionPolicyResource(),
		mutatingAdmissionPolicyBindingResource(),
		mutatingWebhookConfigurationResource(),
		namespaceResource(),
		networkPolicyResource(),
		nodeResource(),
		persistentVolumeClaimResource(),
		persistentVolumeResource(),
		podDisruptionBudgetResource(),
		podResource(),
		replicaSetResource(),
		replicationControllerResource(),
		resourceQuotaResource(),
		roleBindingResource(),
		roleResource(),
		secretResource(),
		serviceAccountResource(),
		serviceResource(),
		statefulSetResource(),
		storageClassResource(),
		validatingAdmissionPolicyResource(),
		validatingAdmissionPolicyBindingResource(),
		validatingWebhookConfigurationResource(),
		volumeAttachmentResource(),
	},
)

// newRegistry checks that rs is in name order without repeats: All, Names
// and DefaultNames return it as it is.
func newRegistry(rs []Resource) []Resource {
	for i := 1; i < len(rs); i++ {
		if strings.Compare(rs[i-1].Name(), rs[i].Name()) >= 0 {
			panic("BUG: resources not in name order, or repeated: " + rs[i-1].Name() + ", " + rs[i].Name())
		}
	}
	return rs
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
