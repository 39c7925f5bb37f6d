package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// validatingAdmissionPolicyResource is the validatingadmissionpolicies resource.
func validatingAdmissionPolicyResource() Resource {
	return &resource[*admissionregistrationv1.ValidatingAdmissionPolicy]{
		name: "validatingadmissionpolicies",
		newObject: func() *admissionregistrationv1.ValidatingAdmissionPolicy {
			return &admissionregistrationv1.ValidatingAdmissionPolicy{}
		},
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().ValidatingAdmissionPolicies()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(p *admissionregistrationv1.ValidatingAdmissionPolicy) []Label {
			return admissionObjectLabels("validatingadmissionpolicy", p.Name)
		},
		families: func(Options) []Family[*admissionregistrationv1.ValidatingAdmissionPolicy] {
			return admissionFamilies("validatingadmissionpolicy", "ValidatingAdmissionPolicy",
				func(p *admissionregistrationv1.ValidatingAdmissionPolicy) []Metric {
					return admissionPolicyInfo(p.Spec.ParamKind, p.Spec.FailurePolicy)
				})
		},
	}
}
