package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// mutatingWebhookConfigurationResource is the mutatingwebhookconfigurations resource.
func mutatingWebhookConfigurationResource() Resource {
	return &resource[*admissionregistrationv1.MutatingWebhookConfiguration]{
		name: "mutatingwebhookconfigurations",
		newObject: func() *admissionregistrationv1.MutatingWebhookConfiguration {
			return &admissionregistrationv1.MutatingWebhookConfiguration{}
		},
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			i := c.AdmissionregistrationV1().MutatingWebhookConfigurations()
			return newListWatch(i.List, i.Watch)
		},
		objectLabels: func(w *admissionregistrationv1.MutatingWebhookConfiguration) []Label {
			return admissionObjectLabels("mutatingwebhookconfiguration", w.Name)
		},
		families: func(Options) []Family[*admissionregistrationv1.MutatingWebhookConfiguration] {
			return webhookConfigurationFamilies("mutatingwebhookconfiguration", "MutatingWebhookConfiguration", "mutating",
				func(w *admissionregistrationv1.MutatingWebhookConfiguration) []Metric {
					out := make([]Metric, 0, len(w.Webhooks))
					for _, h := range w.Webhooks {
						out = append(out, webhookServiceMetric(h.Name, h.ClientConfig.Service))
					}
					return out
				})
		},
	}
}
