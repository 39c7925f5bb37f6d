package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidatingAdmissionPolicyGolden(t *testing.T) {
	ignore := admissionregistrationv1.Ignore
	runGolden(t, "validatingadmissionpolicies", []goldenCase{
		{name: "full", obj: &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "vap1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				ParamKind:     &admissionregistrationv1.ParamKind{APIVersion: "example.com/v1", Kind: "Limits"},
				FailurePolicy: &ignore,
			},
		}},
		// Unset paramKind and failurePolicy: empty labels; no timestamp: no created.
		{name: "unset", obj: &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "vap2", UID: "u2"},
		}},
	})
}
