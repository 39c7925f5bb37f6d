package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConfigMapGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "configmaps", []goldenCase{
		{name: "basic", obj: &v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm1", Namespace: "ns1", UID: "u1", CreationTimestamp: created,
				ResourceVersion: "123", Labels: map[string]string{"app": "x"}},
		}},
		{name: "non-numeric-resource-version-no-created", obj: &v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm2", Namespace: "ns2", UID: "u2", ResourceVersion: "123456B"},
		}},
		{name: "zero-resource-version-with-allowlists", obj: &v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm3", Namespace: "ns3", UID: "u3", CreationTimestamp: created,
				ResourceVersion: "000000",
				Labels:          map[string]string{"app": "x", "camelCase": "y"},
				Annotations:     map[string]string{"app": "z", "other": "no"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		{name: "allowlists-without-matching-keys", obj: &v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm4", Namespace: "ns4", UID: "u4", ResourceVersion: "7"},
		}, opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"app"}}},
	})
}
