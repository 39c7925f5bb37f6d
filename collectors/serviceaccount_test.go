package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestServiceAccountGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "serviceaccounts", []goldenCase{
		{name: "full", obj: &v1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "sa1", Namespace: "ns1", UID: "uid1", CreationTimestamp: created,
				DeletionTimestamp: &deleted},
			AutomountServiceAccountToken: new(true),
			Secrets:                      []v1.ObjectReference{{Name: "sa1-token"}, {Name: "sa1-extra"}},
			ImagePullSecrets:             []v1.LocalObjectReference{{Name: "registry"}},
		}},
		{name: "automount-false", obj: &v1.ServiceAccount{
			ObjectMeta:                   metav1.ObjectMeta{Name: "sa2", Namespace: "ns2", UID: "uid2", CreationTimestamp: created},
			AutomountServiceAccountToken: new(false),
		}},
		{name: "automount-unset-with-allowlists", obj: &v1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "sa3", Namespace: "ns3", UID: "uid3",
				Labels:      map[string]string{"app": "x"},
				Annotations: map[string]string{"app": "y", "eks.amazonaws.com/role-arn": "no"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
	})
}

// KSM watches serviceaccounts and ingressclasses only when --resources names them.
func TestServiceAccountAndIngressClassAreNotDefault(t *testing.T) {
	rs, err := Lookup([]string{"serviceaccounts", "ingressclasses", "configmaps"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if want := r.Name() == "configmaps"; r.Default() != want {
			t.Errorf("%s: Default() = %v, want %v", r.Name(), r.Default(), want)
		}
	}
}
