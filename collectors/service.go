package collectors

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// serviceResource is the services resource.
func serviceResource() Resource {
	return &resource[*v1.Service]{
		name:       "services",
		namespaced: true,
		newObject:  func() *v1.Service { return &v1.Service{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Services(ns).List, c.CoreV1().Services(ns).Watch)
		},
		objectLabels: func(s *v1.Service) []Label {
			return []Label{{Name: "namespace", Value: s.Namespace}, {Name: "service", Value: s.Name}, {Name: "uid", Value: string(s.UID)}}
		},
		families: serviceFamilies,
	}
}

func serviceFamilies(o Options) []Family[*v1.Service] {
	return []Family[*v1.Service]{
		{
			Name: "kube_service_info", Help: "Information about service.", Type: Gauge, Stability: Stable,
			Gen: func(s *v1.Service) []Metric {
				return []Metric{m(1,
					"cluster_ip", s.Spec.ClusterIP,
					"external_name", s.Spec.ExternalName,
					"load_balancer_ip", s.Spec.LoadBalancerIP,
					"external_traffic_policy", string(s.Spec.ExternalTrafficPolicy))}
			},
		},
		createdFamily[*v1.Service]("service", Stable),
		{
			Name: "kube_service_spec_type", Help: "Type about service.", Type: Gauge, Stability: Stable,
			Gen: func(s *v1.Service) []Metric { return []Metric{m(1, "type", string(s.Spec.Type))} },
		},
		annotationsFamily[*v1.Service]("service", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.Service]("service", Stable, o.AllowLabels),
		{
			Name: "kube_service_spec_external_ip", Help: "Service external ips. One series for each ip", Type: Gauge, Stability: Stable,
			Gen: func(s *v1.Service) []Metric {
				out := make([]Metric, len(s.Spec.ExternalIPs))
				for i, ip := range s.Spec.ExternalIPs {
					out[i] = m(1, "external_ip", ip)
				}
				return out
			},
		},
		{
			Name: "kube_service_status_load_balancer_ingress", Help: "Service load balancer ingress status", Type: Gauge, Stability: Stable,
			Gen: func(s *v1.Service) []Metric {
				out := make([]Metric, len(s.Status.LoadBalancer.Ingress))
				for i, in := range s.Status.LoadBalancer.Ingress {
					out[i] = m(1, "ip", in.IP, "hostname", in.Hostname)
				}
				return out
			},
		},
		deletionTimestampFamily[*v1.Service]("service", Alpha),
	}
}
