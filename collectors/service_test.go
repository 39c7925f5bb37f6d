package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestServiceGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "services", []goldenCase{
		{name: "cluster-ip", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "svc1", CreationTimestamp: created},
			Spec:       v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"}},
		}},
		// Every load balancer ingress is a series; an entry may have only an ip or
		// only a hostname.
		{name: "load-balancer", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "ns1", UID: "svc2", CreationTimestamp: created},
			Spec: v1.ServiceSpec{
				Type: v1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.20", LoadBalancerIP: "203.0.113.7",
				ExternalTrafficPolicy: v1.ServiceExternalTrafficPolicyLocal,
				ExternalIPs:           []string{"198.51.100.1", "198.51.100.2"},
			},
			Status: v1.ServiceStatus{LoadBalancer: v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{
				{IP: "203.0.113.7"},
				{Hostname: "edge.elb.example.com"},
				{IP: "203.0.113.8", Hostname: "edge2.example.com"},
			}}},
		}},
		{name: "node-port-cluster-policy", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "ns2", UID: "svc3", CreationTimestamp: created},
			Spec: v1.ServiceSpec{Type: v1.ServiceTypeNodePort, ClusterIP: "10.96.0.30",
				ExternalTrafficPolicy: v1.ServiceExternalTrafficPolicyCluster},
		}},
		{name: "external-name-deleting", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns1", UID: "svc4", CreationTimestamp: created,
				DeletionTimestamp: &deleted},
			Spec: v1.ServiceSpec{Type: v1.ServiceTypeExternalName, ExternalName: "db.example.com"},
		}},
		{name: "headless", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns1", UID: "svc5", CreationTimestamp: created},
			Spec:       v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: v1.ClusterIPNone},
		}},
		{name: "allowlists", obj: &v1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "svc6",
				Labels:      map[string]string{"app": "web", "team": "a"},
				Annotations: map[string]string{"prometheus.io/scrape": "true", "owner": "me"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"prometheus.io/*"}}},
		// No uid, type or addresses: those labels are dropped.
		{name: "empty", obj: &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1"}}},
	})
}
