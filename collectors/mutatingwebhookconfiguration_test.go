package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMutatingWebhookConfigurationGolden(t *testing.T) {
	url := "https://hooks.example.com/mutate"
	runGolden(t, "mutatingwebhookconfigurations", []goldenCase{
		// One clientconfig_service series per webhook; a URL webhook has no service labels.
		{name: "service-and-url-webhooks", obj: &admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "mwc1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "123456"},
			Webhooks: []admissionregistrationv1.MutatingWebhook{
				{Name: "inject.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{
					Service: &admissionregistrationv1.ServiceReference{Name: "injector", Namespace: "system"}}},
				{Name: "external.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url}},
			},
		}},
		// No webhooks: no clientconfig_service series; no timestamp, non-numeric RV.
		{name: "no-webhooks-no-created-unparseable-rv", obj: &admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "mwc2", UID: "u2", ResourceVersion: "abcdef"},
		}},
	})
}
