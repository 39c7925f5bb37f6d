package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// validatingWebhookConfigurationResource is the validatingwebhookconfigurations resource.
func validatingWebhookConfigurationResource() Resource {
	return &resource[*admissionregistrationv1.ValidatingWebhookConfiguration]{
		name: "validatingwebhookconfigurations",
		newObject: func() *admissionregistrationv1.ValidatingWebhookConfiguration {
			return &admissionregistrationv1.ValidatingWebhookConfiguration{}
		},
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().ValidatingWebhookConfigurations()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(w *admissionregistrationv1.ValidatingWebhookConfiguration) []Label {
			return admissionObjectLabels("validatingwebhookconfiguration", w.Name)
		},
		families: func(Options) []Family[*admissionregistrationv1.ValidatingWebhookConfiguration] {
			return webhookConfigurationFamilies("validatingwebhookconfiguration", "ValidatingWebhookConfiguration", "validating",
				func(w *admissionregistrationv1.ValidatingWebhookConfiguration) []Metric {
					out := make([]Metric, 0, len(w.Webhooks))
					for _, h := range w.Webhooks {
						out = append(out, webhookServiceMetric(h.Name, h.ClientConfig.Service))
					}
					return out
				})
		},
	}
}
