package collectors

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIngressClassGolden(t *testing.T) {
	runGolden(t, "ingressclasses", []goldenCase{
		{name: "nginx", obj: &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "nginx", UID: "i1", CreationTimestamp: metav1.Unix(1501569018, 0)},
			Spec:       networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
		}},
		{name: "no-controller-with-allowlists", obj: &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "bare", UID: "i2",
				Labels:      map[string]string{"app": "x"},
				Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true", "other": "no"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"ingressclass.kubernetes.io/*"}}},
	})
}
