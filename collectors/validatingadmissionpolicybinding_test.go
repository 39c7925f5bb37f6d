package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidatingAdmissionPolicyBindingGolden(t *testing.T) {
	allow := admissionregistrationv1.AllowAction
	runGolden(t, "validatingadmissionpolicybindings", []goldenCase{
		// One validation_action series per action.
		{name: "param-ref-and-actions", obj: &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "vapb1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "vap1",
				ParamRef:   &admissionregistrationv1.ParamRef{Name: "limits", Namespace: "system", ParameterNotFoundAction: &allow},
				ValidationActions: []admissionregistrationv1.ValidationAction{
					admissionregistrationv1.Deny, admissionregistrationv1.Warn, admissionregistrationv1.Audit,
				},
			},
		}},
		// A selector paramRef has no name or namespace; no action: empty.
		{name: "param-ref-selector", obj: &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "vapb2", UID: "u2", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        "vap1",
				ParamRef:          &admissionregistrationv1.ParamRef{Selector: &metav1.LabelSelector{}},
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		}},
		// No paramRef: param_* empty; no actions: no validation_action series; no timestamp: no created.
		{name: "no-param-ref-no-actions", obj: &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "vapb3", UID: "u3"},
			Spec:       admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "vap2"},
		}},
	})
}
