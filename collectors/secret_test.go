package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSecretGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "secrets", []goldenCase{
		{name: "opaque-no-owner", obj: &v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "secret1", Namespace: "ns1", UID: "s1", ResourceVersion: "000000"},
			Type:       v1.SecretTypeOpaque,
		}},
		{name: "owners-and-non-numeric-resource-version", obj: &v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "secret2", Namespace: "ns2", UID: "s2", CreationTimestamp: created,
				ResourceVersion: "123456B",
				OwnerReferences: []metav1.OwnerReference{
					{Kind: "Certificate", Name: "cert", Controller: new(true)},
					{Kind: "ServiceAccount", Name: "sa"},
					{Kind: "ConfigMap", Name: "cm", Controller: new(false)},
				}},
			Type: v1.SecretTypeServiceAccountToken,
		}},
		{name: "no-type-with-allowlists", obj: &v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "secret3", Namespace: "ns3", UID: "s3", CreationTimestamp: created,
				ResourceVersion: "42",
				Labels:          map[string]string{"test-3": "a", "app": "b"},
				Annotations:     map[string]string{"app": "c", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}
