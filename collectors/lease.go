package collectors

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// leaseResource is the leases resource.
func leaseResource() Resource {
	return &resource[*coordinationv1.Lease]{
		name:       "leases",
		namespaced: true,
		newObject:  func() *coordinationv1.Lease { return &coordinationv1.Lease{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoordinationV1().Leases(ns).List, c.CoordinationV1().Leases(ns).Watch)
		},
		// KSM's only default label for leases is lease; each family adds namespace.
		objectLabels: func(l *coordinationv1.Lease) []Label { return []Label{{Name: "lease", Value: l.Name}} },
		families:     leaseFamilies,
	}
}

func leaseFamilies(Options) []Family[*coordinationv1.Lease] {
	return []Family[*coordinationv1.Lease]{
		{
			Name: "kube_lease_owner", Help: "Information about the Lease's owner.", Type: Gauge, Stability: Alpha,
			Gen: func(l *coordinationv1.Lease) []Metric {
				holder := ""
				if l.Spec.HolderIdentity != nil {
					holder = *l.Spec.HolderIdentity
				}
				out := ownerMetrics(l.OwnerReferences, false)
				for i := range out {
					out[i].Keys = append(out[i].Keys, "namespace", "lease_holder")
					out[i].Values = append(out[i].Values, l.Namespace, holder)
				}
				return out
			},
		},
		{
			Name: "kube_lease_renew_time", Help: "Kube lease renew time.", Type: Gauge, Stability: Alpha,
			Gen: func(l *coordinationv1.Lease) []Metric {
				t := l.Spec.RenewTime
				if t == nil || t.IsZero() {
					return nil
				}
				return []Metric{m(float64(t.Unix()), "namespace", l.Namespace)}
			},
		},
	}
}
