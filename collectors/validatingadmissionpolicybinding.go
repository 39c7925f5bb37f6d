package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// validatingAdmissionPolicyBindingResource is the validatingadmissionpolicybindings resource.
func validatingAdmissionPolicyBindingResource() Resource {
	return &resource[*admissionregistrationv1.ValidatingAdmissionPolicyBinding]{
		name: "validatingadmissionpolicybindings",
		newObject: func() *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
			return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		},
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) []Label {
			return admissionObjectLabels("validatingadmissionpolicybinding", b.Name)
		},
		families: validatingAdmissionPolicyBindingFamilies,
	}
}

func validatingAdmissionPolicyBindingFamilies(Options) []Family[*admissionregistrationv1.ValidatingAdmissionPolicyBinding] {
	return append(admissionFamilies("validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding",
		func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) []Metric {
			return admissionPolicyBindingInfo(b.Spec.PolicyName, b.Spec.ParamRef)
		}),
		Family[*admissionregistrationv1.ValidatingAdmissionPolicyBinding]{
			Name: "kube_validatingadmissionpolicybinding_validation_action", Type: Gauge, Stability: Alpha,
			Help: "Validation actions for the ValidatingAdmissionPolicyBinding.",
			Gen: func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) []Metric {
				out := make([]Metric, 0, len(b.Spec.ValidationActions))
				for _, a := range b.Spec.ValidationActions {
					out = append(out, m(1, "action", string(a)))
				}
				return out
			},
		})
}
