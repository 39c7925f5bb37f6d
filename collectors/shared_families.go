package collectors

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Family builders shared by resources whose KSM stores are copies of one
// another: roles and clusterroles, rolebindings and clusterrolebindings, the two
// webhook configurations and the four admission policy kinds.

// rbacFamilies are the families KSM gives roles, clusterroles, rolebindings and
// clusterrolebindings, in its order. desc is the kind as KSM's help texts spell
// it (e.g. "cluster role"); info generates kube_<kind>_info.
func rbacFamilies[T metav1.Object](kind, desc string, o Options, info func(T) []Metric) []Family[T] {
	rv := resourceVersionFamily[T](kind, Alpha)
	rv.Help = "Resource version representing a specific version of the " + desc + "."
	return []Family[T]{
		annotationsFamily[T](kind, Alpha, o.AllowAnnotations),
		labelsFamily[T](kind, Alpha, o.AllowLabels),
		{Name: "kube_" + kind + "_info", Help: "Information about " + desc + ".", Type: Gauge, Stability: Alpha, Gen: info},
		createdFamily[T](kind, Alpha),
		rv,
	}
}

// roleRefInfo is the info series of a role binding: the kind and name of the
// role it grants.
func roleRefInfo(ref rbacv1.RoleRef) []Metric {
	return []Metric{m(1, "roleref_kind", ref.Kind, "roleref_name", ref.Name)}
}

// admissionObjectLabels are the labels of a cluster-scoped webhook configuration
// or admission policy. KSM gives them a namespace label, which is always empty
// (and so dropped), before the object's name.
func admissionObjectLabels(kind, name string) []Label {
	return []Label{{Name: "namespace", Value: ""}, {Name: kind, Value: name}}
}

// admissionFamilies are the info and created families every webhook
// configuration and admission policy kind has. typeName is the Kubernetes kind
// as KSM's help texts spell it (e.g. "MutatingAdmissionPolicy").
func admissionFamilies[T metav1.Object](kind, typeName string, info func(T) []Metric) []Family[T] {
	created := createdFamily[T](kind, Alpha)
	created.Help = "Unix creation timestamp."
	return []Family[T]{
		{Name: "kube_" + kind + "_info", Help: "Information about the " + typeName + ".", Type: Gauge, Stability: Alpha, Gen: info},
		created,
	}
}

// webhookConfigurationFamilies are the families of mutating and validating
// webhook configurations. services returns one webhookServiceMetric per webhook;
// webhookType is "mutating" or "validating".
func webhookConfigurationFamilies[T metav1.Object](kind, typeName, webhookType string, services func(T) []Metric) []Family[T] {
	rv := resourceVersionFamily[T](kind, Alpha)
	rv.Help = "Resource version representing a specific version of the " + typeName + "."
	return append(admissionFamilies[T](kind, typeName, func(T) []Metric { return one(1) }), rv, Family[T]{
		Name: "kube_" + kind + "_webhook_clientconfig_service", Type: Gauge, Stability: Alpha,
		Help: "Service used by the apiserver to connect to a " + webhookType + " webhook.",
		Gen:  services,
	})
}

// webhookServiceMetric is the clientconfig_service series of one webhook; the
// service labels are empty when the webhook is reached by URL.
func webhookServiceMetric(webhook string, svc *admissionregistrationv1.ServiceReference) Metric {
	var name, namespace string
	if svc != nil {
		name, namespace = svc.Name, svc.Namespace
	}
	return m(1, "webhook_name", webhook, "service_name", name, "service_namespace", namespace)
}

// admissionPolicyInfo is the info series of an admission policy: its param kind
// and failure policy, empty when unset, followed by extra labels.
func admissionPolicyInfo(pk *admissionregistrationv1.ParamKind, fp *admissionregistrationv1.FailurePolicyType, extra ...string) []Metric {
	var apiVersion, kind, failurePolicy string
	if pk != nil {
		apiVersion, kind = pk.APIVersion, pk.Kind
	}
	if fp != nil {
		failurePolicy = string(*fp)
	}
	kv := append([]string{"param_api_version", apiVersion, "param_kind", kind, "failure_policy", failurePolicy}, extra...)
	return []Metric{m(1, kv...)}
}

// admissionPolicyBindingInfo is the info series of an admission policy binding:
// the policy it binds and its param reference, empty when there is none.
func admissionPolicyBindingInfo(policy string, ref *admissionregistrationv1.ParamRef) []Metric {
	var name, namespace, notFound string
	if ref != nil {
		name, namespace = ref.Name, ref.Namespace
		if ref.ParameterNotFoundAction != nil {
			notFound = string(*ref.ParameterNotFoundAction)
		}
	}
	return []Metric{m(1, "policy_name", policy, "param_name", name, "param_namespace", namespace,
		"param_not_found_action", notFound)}
}
