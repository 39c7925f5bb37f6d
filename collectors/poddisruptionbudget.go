package collectors

import (
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// podDisruptionBudgetResource is the poddisruptionbudgets resource.
func podDisruptionBudgetResource() Resource {
	return &resource[*policyv1.PodDisruptionBudget]{
		name:       "poddisruptionbudgets",
		namespaced: true,
		newObject:  func() *policyv1.PodDisruptionBudget { return &policyv1.PodDisruptionBudget{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.PolicyV1().PodDisruptionBudgets(ns).List, c.PolicyV1().PodDisruptionBudgets(ns).Watch)
		},
		objectLabels: func(p *policyv1.PodDisruptionBudget) []Label {
			return []Label{{Name: "namespace", Value: p.Namespace}, {Name: "poddisruptionbudget", Value: p.Name}}
		},
		families: podDisruptionBudgetFamilies,
	}
}

// podDisruptionBudgetStatus is a family holding one status counter, always present.
func podDisruptionBudgetStatus(name, help string, v func(*policyv1.PodDisruptionBudgetStatus) int64) Family[*policyv1.PodDisruptionBudget] {
	return Family[*policyv1.PodDisruptionBudget]{
		Name: name, Help: help, Type: Gauge, Stability: Stable,
		Gen: func(p *policyv1.PodDisruptionBudget) []Metric { return one(float64(v(&p.Status))) },
	}
}

func podDisruptionBudgetFamilies(o Options) []Family[*policyv1.PodDisruptionBudget] {
	return []Family[*policyv1.PodDisruptionBudget]{
		annotationsFamily[*policyv1.PodDisruptionBudget]("poddisruptionbudget", Alpha, o.AllowAnnotations),
		labelsFamily[*policyv1.PodDisruptionBudget]("poddisruptionbudget", Alpha, o.AllowLabels),
		createdFamily[*policyv1.PodDisruptionBudget]("poddisruptionbudget", Stable),
		podDisruptionBudgetStatus("kube_poddisruptionbudget_status_current_healthy", "Current number of healthy pods",
			func(s *policyv1.PodDisruptionBudgetStatus) int64 { return int64(s.CurrentHealthy) }),
		podDisruptionBudgetStatus("kube_poddisruptionbudget_status_desired_healthy", "Minimum desired number of healthy pods",
			func(s *policyv1.PodDisruptionBudgetStatus) int64 { return int64(s.DesiredHealthy) }),
		podDisruptionBudgetStatus("kube_poddisruptionbudget_status_pod_disruptions_allowed", "Number of pod disruptions that are currently allowed",
			func(s *policyv1.PodDisruptionBudgetStatus) int64 { return int64(s.DisruptionsAllowed) }),
		podDisruptionBudgetStatus("kube_poddisruptionbudget_status_expected_pods", "Total number of pods counted by this disruption budget",
			func(s *policyv1.PodDisruptionBudgetStatus) int64 { return int64(s.ExpectedPods) }),
		podDisruptionBudgetStatus("kube_poddisruptionbudget_status_observed_generation", "Most recent generation observed when updating this PDB status",
			func(s *policyv1.PodDisruptionBudgetStatus) int64 { return s.ObservedGeneration }),
		deletionTimestampFamily[*policyv1.PodDisruptionBudget]("poddisruptionbudget", Alpha),
	}
}
