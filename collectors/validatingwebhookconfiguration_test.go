package collectors

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidatingWebhookConfigurationGolden(t *testing.T) {
	url := "https://hooks.example.com/validate"
	runGolden(t, "validatingwebhookconfigurations", []goldenCase{
		// One clientconfig_service series per webhook; a URL webhook has no service labels.
		{name: "service-and-url-webhooks", obj: &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "vwc1", UID: "u1", CreationTimestamp: metav1.Unix(1501569018, 0), ResourceVersion: "123456"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{
				{Name: "policy.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{
					Service: &admissionregistrationv1.ServiceReference{Name: "policy", Namespace: "system"}}},
				{Name: "external.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url}},
			},
		}},
		// No webhooks: no clientconfig_service series; no timestamp, non-numeric RV.
		{name: "no-webhooks-no-created-unparseable-rv", obj: &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "vwc2", UID: "u2", ResourceVersion: "abcdef"},
		}},
	})
}
