package collectors

import (
	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// certificateSigningRequestResource is the certificatesigningrequests resource.
func certificateSigningRequestResource() Resource {
	return &resource[*certv1.CertificateSigningRequest]{
		name:      "certificatesigningrequests",
		newObject: func() *certv1.CertificateSigningRequest { return &certv1.CertificateSigningRequest{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.CertificatesV1().CertificateSigningRequests().List, c.CertificatesV1().CertificateSigningRequests().Watch)
		},
		objectLabels: func(r *certv1.CertificateSigningRequest) []Label {
			return []Label{{Name: "certificatesigningrequest", Value: r.Name}, {Name: "signer_name", Value: r.Spec.SignerName}}
		},
		families: csrFamilies,
	}
}

// csrConditionTypes are the condition types kube_certificatesigningrequest_condition
// always reports, with their label values, in KSM's order.
var csrConditionTypes = []struct {
	t     certv1.RequestConditionType
	label string
}{
	{certv1.CertificateApproved, "approved"},
	{certv1.CertificateDenied, "denied"},
	{certv1.CertificateFailed, "failed"},
}

func csrFamilies(o Options) []Family[*certv1.CertificateSigningRequest] {
	return []Family[*certv1.CertificateSigningRequest]{
		annotationsFamily[*certv1.CertificateSigningRequest]("certificatesigningrequest", Alpha, o.AllowAnnotations),
		labelsFamily[*certv1.CertificateSigningRequest]("certificatesigningrequest", Stable, o.AllowLabels),
		createdFamily[*certv1.CertificateSigningRequest]("certificatesigningrequest", Stable),
		{
			Name: "kube_certificatesigningrequest_condition", Help: "The number of each certificatesigningrequest condition",
			Type: Gauge, Stability: Stable,
			// Not a 0/1 state set: each series counts the conditions of its type,
			// and all three are present even when there are no conditions.
			Gen: func(r *certv1.CertificateSigningRequest) []Metric {
				out := make([]Metric, 0, len(csrConditionTypes))
				for _, ct := range csrConditionTypes {
					n := 0
					for _, c := range r.Status.Conditions {
						if c.Type == ct.t {
							n++
						}
					}
					out = append(out, m(float64(n), "condition", ct.label))
				}
				return out
			},
		},
		{
			Name: "kube_certificatesigningrequest_cert_length", Help: "Length of the issued cert", Type: Gauge, Stability: Stable,
			Gen: func(r *certv1.CertificateSigningRequest) []Metric { return one(float64(len(r.Status.Certificate))) },
		},
	}
}
