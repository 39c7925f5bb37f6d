package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// mutatingAdmissionPolicyBindingResource is the mutatingadmissionpolicybindings resource.
func mutatingAdmissionPolicyBindingResource() Resource {
	return &resource[*admissionregistrationv1.MutatingAdmissionPolicyBinding]{
		name: "mutatingadmissionpolicybindings",
		newObject: func() *admissionregistrationv1.MutatingAdmissionPolicyBinding {
			return &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
		},
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().MutatingAdmissionPolicyBindings()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) []Label {
			return admissionObjectLabels("mutatingadmissionpolicybinding", b.Name)
		},
		families: func(Options) []Family[*admissionregistrationv1.MutatingAdmissionPolicyBinding] {
			return admissionFamilies("mutatingadmissionpolicybinding", "MutatingAdmissionPolicyBinding",
				func(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) []Metric {
					return admissionPolicyBindingInfo(b.Spec.PolicyName, b.Spec.ParamRef)
				})
		},
	}
}
