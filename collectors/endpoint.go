package collectors

import (
	"strconv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// endpointsResource is the endpoints resource.
//
// Endpoints are deprecated in favour of EndpointSlices (Kubernetes 1.33), and
// KSM watches them only when --resources names them (since v2.18). The metric
// prefix is the singular kube_endpoint_.
func endpointsResource() Resource {
	return &resource[*v1.Endpoints]{
		name:       "endpoints",
		namespaced: true,
		nonDefault: true,
		newObject:  func() *v1.Endpoints { return &v1.Endpoints{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Endpoints(ns).List, c.CoreV1().Endpoints(ns).Watch)
		},
		objectLabels: func(e *v1.Endpoints) []Label {
			return []Label{{Name: "namespace", Value: e.Namespace}, {Name: "endpoint", Value: e.Name}}
		},
		families: endpointFamilies,
	}
}

// endpointAddresses is one series per (port, address) of every subset, ready
// addresses first with ready="true", then the not-ready ones with ready="false".
// A subset without ports has no series.
func endpointAddresses(e *v1.Endpoints) []Metric {
	var out []Metric
	for _, s := range e.Subsets {
		for _, p := range s.Ports {
			number := strconv.FormatInt(int64(p.Port), 10)
			for _, a := range s.Addresses {
				out = append(out, m(1, "port_protocol", string(p.Protocol), "port_number", number, "port_name", p.Name, "ip", a.IP, "ready", "true"))
			}
			for _, a := range s.NotReadyAddresses {
				out = append(out, m(1, "port_protocol", string(p.Protocol), "port_number", number, "port_name", p.Name, "ip", a.IP, "ready", "false"))
			}
		}
	}
	return out
}

func endpointFamilies(o Options) []Family[*v1.Endpoints] {
	return []Family[*v1.Endpoints]{
		{
			Name: "kube_endpoint_info", Help: "Information about endpoint.", Type: Gauge, Stability: Stable,
			Gen: func(*v1.Endpoints) []Metric { return one(1) },
		},
		createdFamily[*v1.Endpoints]("endpoint", Stable),
		annotationsFamily[*v1.Endpoints]("endpoint", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.Endpoints]("endpoint", Stable, o.AllowLabels),
		{
			Name: "kube_endpoint_address", Help: "Information about Endpoint available and non available addresses.", Type: Gauge, Stability: Stable,
			Gen: endpointAddresses,
		},
		{
			// Deprecated in v2.14.0 in favour of kube_endpoint_address, yet still emitted.
			Name: "kube_endpoint_ports", Help: "(Deprecated since v2.14.0) Information about the Endpoint ports.", Type: Gauge, Stability: Stable,
			Gen: func(e *v1.Endpoints) []Metric {
				var out []Metric
				for _, s := range e.Subsets {
					for _, p := range s.Ports {
						out = append(out, m(1, "port_name", p.Name, "port_protocol", string(p.Protocol), "port_number", strconv.FormatInt(int64(p.Port), 10)))
					}
				}
				return out
			},
		},
	}
}
