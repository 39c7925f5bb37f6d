package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMutatingAdmissionPolicyBindingGolden(t *testing.T) {
	deny := admissionregistrationv1.DenyAction
	runGolden(t, "mutatingadmissionpolicybindings", []goldenCase{
		{name: "param-ref", obj: &admissionregistrationv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mapb1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName: "map1",
				ParamRef:   &admissionregistrationv1.ParamRef{Name: "params", Namespace: "system", ParameterNotFoundAction: &deny},
			},
		}},
		// A selector paramRef has no name or namespace; no action: empty.
		{name: "param-ref-selector", obj: &admissionregistrationv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mapb2", UID: "u2", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName: "map1",
				ParamRef:   &admissionregistrationv1.ParamRef{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
			},
		}},
		// No paramRef: param_* empty; no timestamp: no created.
		{name: "no-param-ref", obj: &admissionregistrationv1.MutatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mapb3", UID: "u3"},
			Spec:       admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "map2"},
		}},
	})
}
