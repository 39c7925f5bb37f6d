package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// mutatingAdmissionPolicyResource is the mutatingadmissionpolicies resource.
func mutatingAdmissionPolicyResource() Resource {
	return &resource[*admissionregistrationv1.MutatingAdmissionPolicy]{
		name: "mutatingadmissionpolicies",
		newObject: func() *admissionregistrationv1.MutatingAdmissionPolicy {
			return &admissionregistrationv1.MutatingAdmissionPolicy{}
		},
		// admissionregistration.k8s.io/v1, as in KSM v2.20: the API is GA and
		// served by default since Kubernetes 1.36.
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().MutatingAdmissionPolicies()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(p *admissionregistrationv1.MutatingAdmissionPolicy) []Label {
			return admissionObjectLabels("mutatingadmissionpolicy", p.Name)
		},
		families: func(Options) []Family[*admissionregistrationv1.MutatingAdmissionPolicy] {
			return admissionFamilies("mutatingadmissionpolicy", "MutatingAdmissionPolicy",
				func(p *admissionregistrationv1.MutatingAdmissionPolicy) []Metric {
					return admissionPolicyInfo(p.Spec.ParamKind, p.Spec.FailurePolicy,
						"reinvocation_policy", string(p.Spec.ReinvocationPolicy))
				})
		},
	}
}
