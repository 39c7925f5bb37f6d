package collectors

import (
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCertificateSigningRequestGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "certificatesigningrequests", []goldenCase{
		{name: "pending", obj: &certv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: "csr-1", UID: "c1", CreationTimestamp: created,
				Labels: map[string]string{"cert": "test"}},
			Spec: certv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kube-apiserver-client"},
		}},
		{name: "approved-and-issued", obj: &certv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: "csr-2", UID: "c2", CreationTimestamp: created},
			Spec:       certv1.CertificateSigningRequestSpec{SignerName: "example.com/signer"},
			Status: certv1.CertificateSigningRequestStatus{
				Certificate: []byte("just for test"),
				Conditions:  []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateApproved, Status: "True"}},
			},
		}},
		{name: "condition-counts", obj: &certv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: "csr-3", UID: "c3", CreationTimestamp: created},
			Spec:       certv1.CertificateSigningRequestSpec{SignerName: "example.com/signer"},
			// Counts, not 0/1; a condition's status is not looked at; other types are not counted.
			Status: certv1.CertificateSigningRequestStatus{Conditions: []certv1.CertificateSigningRequestCondition{
				{Type: certv1.CertificateApproved, Status: "True"},
				{Type: certv1.CertificateDenied, Status: "False"},
				{Type: certv1.CertificateApproved, Status: "True"},
				{Type: certv1.CertificateDenied, Status: "True"},
				{Type: certv1.CertificateFailed, Status: "True"},
				{Type: certv1.CertificateFailed, Status: "Unknown"},
				{Type: "SomethingElse", Status: "True"},
			}},
		}},
		{name: "no-signer-no-created-with-allowlists", obj: &certv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: "csr-4", UID: "c4",
				Labels:      map[string]string{"app": "x", "app.kubernetes.io/name": "y"},
				Annotations: map[string]string{"app": "z", "other": "no"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
