package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEndpointSliceGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	runGolden(t, "endpointslices", []goldenCase{
		{name: "endpoints-and-ports", obj: &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-abcde", Namespace: "ns1", UID: "es1", CreationTimestamp: created},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{
				// A terminating endpoint that still serves: the three conditions
				// each land in their own label, and so does the hostname.
				{
					Addresses:  []string{"10.0.0.1", "10.0.0.11"},
					Conditions: discoveryv1.EndpointConditions{Ready: new(false), Serving: new(true), Terminating: new(true)},
					Hostname:   new("web-0"),
					TargetRef:  &v1.ObjectReference{Kind: "Pod", Name: "web-0", Namespace: "ns1"},
					NodeName:   new("node-1"),
					Zone:       new("eu-1a"),
					Hints:      &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "eu-1a"}, {Name: "eu-1b"}}},
				},
				{
					Addresses:  []string{"10.0.0.2"},
					Conditions: discoveryv1.EndpointConditions{Ready: new(true), Serving: new(true), Terminating: new(false)},
					TargetRef:  &v1.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "ns1"},
					NodeName:   new("node-2"),
					Zone:       new("eu-1b"),
					// Node hints alone give no hint series.
					Hints: &discoveryv1.EndpointHints{ForNodes: []discoveryv1.ForNode{{Name: "node-2"}}},
				},
				// Unset conditions and fields are "" and so dropped.
				{Addresses: []string{"10.0.0.3"}},
				// The API requires an address; without one there is nothing to report.
				{Hints: &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "eu-1c"}}}},
			},
			Ports: []discoveryv1.EndpointPort{
				{Name: new("http"), Protocol: new(v1.ProtocolTCP), Port: new(int32(8080))},
				// An unnamed port of a single-port service.
				{Name: new(""), Protocol: new(v1.ProtocolUDP), Port: new(int32(53))},
				// No port number: the slice covers all ports.
				{Name: new("all"), Protocol: new(v1.ProtocolTCP)},
				{},
			},
		}},
		{name: "fqdn", obj: &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "ext-xyz", Namespace: "ns2", UID: "es2", CreationTimestamp: created},
			AddressType: discoveryv1.AddressTypeFQDN,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"db.example.com"}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}}},
		}},
		{name: "allowlists", obj: &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "es3",
				Labels: map[string]string{
					"kubernetes.io/service-name":             "web",
					"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
				},
				Annotations: map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": "2017-08-01T06:30:18Z"}},
			AddressType: discoveryv1.AddressTypeIPv6,
		}, opts: Options{AllowLabels: []string{"kubernetes.io/service-name"}, AllowAnnotations: []string{"*"}}},
		{name: "empty", obj: &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "es4"}}},
	})
}
