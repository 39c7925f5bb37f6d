package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMutatingAdmissionPolicyGolden(t *testing.T) {
	fail := admissionregistrationv1.Fail
	runGolden(t, "mutatingadmissionpolicies", []goldenCase{
		{name: "full", obj: &admissionregistrationv1.MutatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "map1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
				ParamKind:          &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
				FailurePolicy:      &fail,
				ReinvocationPolicy: admissionregistrationv1.IfNeededReinvocationPolicy,
			},
		}},
		// Unset paramKind, failurePolicy and reinvocationPolicy: empty labels; no timestamp: no created.
		{name: "unset", obj: &admissionregistrationv1.MutatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "map2", UID: "u2"},
		}},
	})
}
