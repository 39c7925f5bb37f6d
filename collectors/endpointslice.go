package collectors

import (
	"strconv"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// endpointSliceResource is the endpointslices resource.
func endpointSliceResource() Resource {
	return &resource[*discoveryv1.EndpointSlice]{
		name:       "endpointslices",
		namespaced: true,
		newObject:  func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.DiscoveryV1().EndpointSlices(ns).List, c.DiscoveryV1().EndpointSlices(ns).Watch)
		},
		objectLabels: func(s *discoveryv1.EndpointSlice) []Label {
			return []Label{{Name: "endpointslice", Value: s.Name}, {Name: "namespace", Value: s.Namespace}}
		},
		families: endpointSliceFamilies,
	}
}

// endpointSliceBool is "true" or "false", or "" when unset.
func endpointSliceBool(b *bool) string {
	if b == nil {
		return ""
	}
	return boolString(*b)
}

// endpointSliceString is *s, or "" when unset.
func endpointSliceString[S ~string](s *S) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// endpointSliceEndpoints is one series per address of every endpoint, with the
// endpoint's conditions and identity; unset fields are "". This is the
// behaviour since KSM v2.20 (#3058); before, serving carried the terminating
// condition and the hostname and terminating labels were swapped.
func endpointSliceEndpoints(s *discoveryv1.EndpointSlice) []Metric {
	var out []Metric
	for _, ep := range s.Endpoints {
		var refKind, refName, refNamespace string
		if ep.TargetRef != nil {
			refKind, refName, refNamespace = ep.TargetRef.Kind, ep.TargetRef.Name, ep.TargetRef.Namespace
		}
		for _, addr := range ep.Addresses {
			out = append(out, m(1,
				"ready", endpointSliceBool(ep.Conditions.Ready),
				"serving", endpointSliceBool(ep.Conditions.Serving),
				"hostname", endpointSliceString(ep.Hostname),
				"terminating", endpointSliceBool(ep.Conditions.Terminating),
				"targetref_kind", refKind,
				"targetref_name", refName,
				"targetref_namespace", refNamespace,
				"endpoint_nodename", endpointSliceString(ep.NodeName),
				"endpoint_zone", endpointSliceString(ep.Zone),
				"address", addr))
		}
	}
	return out
}

// endpointSliceHints is one series per zone hint of every endpoint, labelled
// with the endpoint's first address (the API requires at least one; an endpoint
// without any has no series).
func endpointSliceHints(s *discoveryv1.EndpointSlice) []Metric {
	var out []Metric
	for _, ep := range s.Endpoints {
		if ep.Hints == nil || len(ep.Addresses) == 0 {
			continue
		}
		for _, z := range ep.Hints.ForZones {
			out = append(out, m(1, "address", ep.Addresses[0], "for_zone", z.Name))
		}
	}
	return out
}

func endpointSliceFamilies(o Options) []Family[*discoveryv1.EndpointSlice] {
	return []Family[*discoveryv1.EndpointSlice]{
		{
			Name: "kube_endpointslice_info", Help: "Information about endpointslice.", Type: Gauge, Stability: Alpha,
			Gen: func(s *discoveryv1.EndpointSlice) []Metric {
				return []Metric{m(1, "addresstype", string(s.AddressType))}
			},
		},
		createdFamily[*discoveryv1.EndpointSlice]("endpointslice", Alpha),
		{
			Name: "kube_endpointslice_endpoints_hints", Help: "Topology routing hints attached to endpoints", Type: Gauge, Stability: Alpha,
			Gen: endpointSliceHints,
		},
		{
			Name: "kube_endpointslice_endpoints", Help: "Endpoints attached to the endpointslice.", Type: Gauge, Stability: Alpha,
			Gen: endpointSliceEndpoints,
		},
		{
			Name: "kube_endpointslice_ports", Help: "Ports attached to the endpointslice.", Type: Gauge, Stability: Alpha,
			Gen: func(s *discoveryv1.EndpointSlice) []Metric {
				out := make([]Metric, len(s.Ports))
				for i, p := range s.Ports {
					var number string
					if p.Port != nil {
						number = strconv.FormatInt(int64(*p.Port), 10)
					}
					out[i] = m(1, "port_name", endpointSliceString(p.Name), "port_protocol", endpointSliceString(p.Protocol), "port_number", number)
				}
				return out
			},
		},
		annotationsFamily[*discoveryv1.EndpointSlice]("endpointslice", Alpha, o.AllowAnnotations),
		labelsFamily[*discoveryv1.EndpointSlice]("endpointslice", Alpha, o.AllowLabels),
	}
}
