package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEndpointGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "endpoints", []goldenCase{
		// Each subset crosses its ports with its ready and not-ready addresses.
		{name: "subsets", obj: &v1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "ep1", CreationTimestamp: created},
			Subsets: []v1.EndpointSubset{
				{
					Addresses:         []v1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "10.0.0.2", Hostname: "web-1", NodeName: new("node-1")}},
					NotReadyAddresses: []v1.EndpointAddress{{IP: "10.0.0.3"}},
					Ports: []v1.EndpointPort{
						{Name: "http", Port: 8080, Protocol: v1.ProtocolTCP},
						{Name: "dns", Port: 53, Protocol: v1.ProtocolUDP},
					},
				},
				{
					NotReadyAddresses: []v1.EndpointAddress{{IP: "fd00::4"}},
					// An unnamed port, as a single-port service has.
					Ports: []v1.EndpointPort{{Port: 9090, Protocol: v1.ProtocolSCTP}},
				},
				// Addresses without ports produce no address series.
				{Addresses: []v1.EndpointAddress{{IP: "10.0.0.9"}}},
			},
		}},
		{name: "allowlists", obj: &v1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "ep2", CreationTimestamp: created,
				Labels:      map[string]string{"app": "web", "endpoints.kubernetes.io/managed-by": "endpoint-controller"},
				Annotations: map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": "2017-08-01T06:30:18Z"}},
		}, opts: Options{AllowLabels: []string{"app"}, AllowAnnotations: []string{"*"}}},
		{name: "empty", obj: &v1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "ep3"}}},
	})
}
