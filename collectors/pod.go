package collectors

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// podResource is the pods resource.
func podResource() Resource {
	return &resource[*v1.Pod]{
		name:       "pods",
		namespaced: true,
		newObject:  func() *v1.Pod { return &v1.Pod{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.CoreV1().Pods(ns).List, c.CoreV1().Pods(ns).Watch)
		},
		objectLabels: func(p *v1.Pod) []Label {
			return []Label{{Name: "namespace", Value: p.Namespace}, {Name: "pod", Value: p.Name}, {Name: "uid", Value: string(p.UID)}}
		},
		counterStart: podCounterStart,
		families:     podFamilies,
	}
}

// podCounterStart is the start timestamp of the pod's two counters,
// kube_pod_container_status_restarts_total and
// kube_pod_init_container_status_restarts_total: the pod's
// metadata.creationTimestamp. A container's restartCount counts from 0 for
// the life of the pod (KSM's counter resets only with a new pod, a new uid
// label), so the pod's creation is when every one of its counters started.
// status.startTime, when the kubelet took the pod, would be as true (the count
// is 0 then too, and no restart comes before it) but is worse as a start
// timestamp, which must be the same in every sample of a series (receivers
// take a new one for a reset): it is nil until the kubelet acknowledges the
// pod, it is status that the kubelet writes on its node's clock and may write
// again, while creationTimestamp is set once by the API server, immutable and
// always present, whichever agent, replica or shard reads the pod. The two
// differ by the scheduling delay, during which the count is 0 anyway.
func podCounterStart(p *v1.Pod) int64 {
	if p.CreationTimestamp.IsZero() {
		return 0
	}
	return p.CreationTimestamp.UnixMilli()
}

// Label keys shared by many series. Metric.Keys is only read, so series share them.
var (
	podKeysPodInfo    = []string{"host_ip", "pod_ip", "node", "created_by_kind", "created_by_name", "priority_class", "host_network"}
	podKeysIP         = []string{"ip", "ip_family"}
	podKeysReason     = []string{"reason"}
	podKeysPhase      = []string{"phase"}
	podKeysQOSClass   = []string{"qos_class"}
	podKeysToleration = []string{"key", "operator", "value", "effect", "toleration_seconds"}
	podKeysPVC        = []string{"volume", "persistentvolumeclaim", "ephemeral"}
	podKeysClaim      = []string{"claim_name", "resourceclaim_name", "resourceclaim_template_name"}
	podKeysType       = []string{"type"}
	podKeysRuntime    = []string{"runtimeclass_name"}
	podKeysAccount    = []string{"service_account"}
	podKeysName       = []string{"name"}
)

// podPhases and podQOSClasses are the fixed series of the phase and QoS families,
// with their label values prebuilt (and, like the keys, only read) so the hot
// path allocates only the result.
var (
	podPhases      = []v1.PodPhase{v1.PodPending, v1.PodSucceeded, v1.PodFailed, v1.PodUnknown, v1.PodRunning}
	podQOSClasses  = []v1.PodQOSClass{v1.PodQOSBestEffort, v1.PodQOSBurstable, v1.PodQOSGuaranteed}
	podPhaseValues = podLabelValues(podPhases)
	podQOSValues   = podLabelValues(podQOSClasses)
)

func podLabelValues[S ~string](ss []S) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = []string{string(s)}
	}
	return out
}

// podStatusReasons are the reasons kube_pod_status_reason reports by name;
// an unknown status.reason is reported as "Other".
var podStatusReasons = []string{
	"Evicted", "NodeAffinity", "NodeLost", "PreemptionByScheduler", "SchedulingGated",
	"Shutdown", "TerminationByKubelet", "UnexpectedAdmissionError",
}

// podDisruptionReasons are the DisruptionTarget reasons kube_pod_status_disruption_reason
// reports by name; any other reason is reported as "Other".
var podDisruptionReasons = []string{
	"PreemptionByScheduler", "DeletionByTaintManager", "EvictionByEvictionAPI", "DeletionByPodGC", "TerminationByKubelet",
}

const podOtherReason = "Other"

func podFamilies(o Options) []Family[*v1.Pod] {
	fams := []Family[*v1.Pod]{
		createdFamily[*v1.Pod]("pod", Stable),
		deletionTimestampFamily[*v1.Pod]("pod", Alpha),
		labelsFamily[*v1.Pod]("pod", Stable, o.AllowLabels),
		annotationsFamily[*v1.Pod]("pod", Alpha, o.AllowAnnotations),
		{
			Name: "kube_pod_info", Help: "Information about pod.", Type: Gauge, Stability: Stable,
			Gen: podInfo,
		},
		{
			Name: "kube_pod_owner", Help: "Information about the Pod's owner.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric { return ownerMetrics(p.OwnerReferences, true) },
		},
		{
			Name: "kube_pod_start_time", Help: "Start time in unix timestamp for a pod.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric {
				// KSM checks only for nil: a set but zero time is emitted as is.
				if p.Status.StartTime == nil {
					return nil
				}
				return one(float64(p.Status.StartTime.Unix()))
			},
		},
		{
			Name: "kube_pod_completion_time", Help: "Completion time in unix timestamp for a pod.", Type: Gauge, Stability: Stable,
			Gen: podCompletionTime,
		},
		{
			Name: "kube_pod_status_phase", Help: "The pods current phase.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric { return podStateSet(p.Status.Phase, podPhases, podPhaseValues, podKeysPhase) },
		},
		{
			Name: "kube_pod_status_qos_class", Help: "The pods current qosClass.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				return podStateSet(p.Status.QOSClass, podQOSClasses, podQOSValues, podKeysQOSClass)
			},
		},
		{
			Name: "kube_pod_status_ready", Help: "Describes whether the pod is ready to serve requests.", Type: Gauge, Stability: Stable,
			Gen: podConditionStatus(v1.PodReady),
		},
		{
			Name: "kube_pod_status_scheduled", Help: "Describes the status of the scheduling process for the pod.", Type: Gauge, Stability: Stable,
			Gen: podConditionStatus(v1.PodScheduled),
		},
		{
			Name: "kube_pod_status_ready_time", Help: "Readiness achieved time in unix timestamp for a pod.", Type: Gauge, Stability: Alpha,
			Gen: podConditionTime(v1.PodReady, v1.ConditionTrue),
		},
		{
			Name: "kube_pod_status_container_ready_time", Help: "Readiness achieved time in unix timestamp for a pod containers.", Type: Gauge, Stability: Alpha,
			Gen: podConditionTime(v1.ContainersReady, v1.ConditionTrue),
		},
		{
			Name: "kube_pod_status_initialized_time", Help: "Initialized time in unix timestamp for a pod.", Type: Gauge, Stability: Alpha,
			Gen: podConditionTime(v1.PodInitialized, v1.ConditionTrue),
		},
		{
			Name: "kube_pod_status_scheduled_time", Help: "Unix timestamp when pod moved into scheduled status", Type: Gauge, Stability: Stable,
			Gen: podConditionTime(v1.PodScheduled, v1.ConditionTrue),
		},
		{
			Name: "kube_pod_status_unscheduled_time", Help: "Unix timestamp when pod moved into unscheduled status", Type: Gauge, Stability: Alpha,
			Gen: podConditionTime(v1.PodScheduled, v1.ConditionFalse),
		},
		{
			Name: "kube_pod_status_unschedulable", Help: "Describes the unschedulable status for the pod.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric {
				var out []Metric
				for i := range p.Status.Conditions {
					if c := &p.Status.Conditions[i]; c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
						out = append(out, Metric{Value: 1})
					}
				}
				return out
			},
		},
		{
			Name: "kube_pod_status_reason", Help: "The pod status reasons", Type: Gauge, Stability: Alpha,
			Gen: podStatusReason,
		},
		{
			Name: "kube_pod_status_disruption_reason", Help: "The pod disruption condition reason", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				var out []Metric
				for i := range p.Status.Conditions {
					c := &p.Status.Conditions[i]
					if c.Type != v1.DisruptionTarget {
						continue
					}
					reason := c.Reason
					if !slices.Contains(podDisruptionReasons, reason) {
						reason = podOtherReason
					}
					out = append(out, Metric{Keys: podKeysReason, Values: []string{reason}, Value: 1})
				}
				return out
			},
		},
		{
			Name: "kube_pod_ips", Help: "Pod IP addresses", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				var out []Metric
				for _, ip := range p.Status.PodIPs {
					if fam := podIPFamily(ip.IP); fam != "" {
						out = append(out, Metric{Keys: podKeysIP, Values: []string{ip.IP, fam}, Value: 1})
					}
				}
				return out
			},
		},
		{
			Name: "kube_pod_restart_policy", Help: "Describes the restart policy in use by this pod.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric { return podLabelMetric(podKeysType, string(p.Spec.RestartPolicy)) },
		},
		{
			Name: "kube_pod_runtimeclass_name_info", Help: "The runtimeclass associated with the pod.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				if p.Spec.RuntimeClassName == nil {
					return nil
				}
				return podLabelMetric(podKeysRuntime, *p.Spec.RuntimeClassName)
			},
		},
		{
			Name: "kube_pod_service_account", Help: "The service account for a pod.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric { return podLabelMetric(podKeysAccount, p.Spec.ServiceAccountName) },
		},
		{
			Name: "kube_pod_scheduler", Help: "The scheduler for a pod.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric { return podLabelMetric(podKeysName, p.Spec.SchedulerName) },
		},
		{
			Name: "kube_pod_overhead_cpu_cores", Help: "The pod overhead in regards to cpu cores associated with running a pod.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				q, ok := p.Spec.Overhead[v1.ResourceCPU]
				if !ok {
					return nil
				}
				return one(ksmQuantityFloat(&q))
			},
		},
		{
			Name: "kube_pod_overhead_memory_bytes", Help: "The pod overhead in regards to memory associated with running a pod.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				q, ok := p.Spec.Overhead[v1.ResourceMemory]
				if !ok {
					return nil
				}
				return one(float64(q.Value()))
			},
		},
		{
			Name: "kube_pod_spec_volumes_persistentvolumeclaims_info", Help: "Information about persistentvolumeclaim and ephemeral volumes in a pod.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric { return podClaimVolumes(p, false) },
		},
		{
			Name: "kube_pod_spec_volumes_persistentvolumeclaims_readonly", Help: "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 since the ephemeral volume source does not support a read-only flag.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.Pod) []Metric { return podClaimVolumes(p, true) },
		},
		{
			Name: "kube_pod_resourceclaim_info", Help: "Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim object name.", Type: Gauge, Stability: Alpha,
			Gen: podResourceClaims,
		},
		{
			Name: "kube_pod_tolerations", Help: "Information about the pod tolerations", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.Pod) []Metric {
				// Repeated tolerations give identical series, which Generate collapses into one.
				out := make([]Metric, 0, len(p.Spec.Tolerations))
				for i := range p.Spec.Tolerations {
					t := &p.Spec.Tolerations[i]
					var seconds string
					if t.TolerationSeconds != nil {
						seconds = strconv.FormatInt(*t.TolerationSeconds, 10)
					}
					out = append(out, Metric{Keys: podKeysToleration, Values: []string{t.Key, string(t.Operator), t.Value, string(t.Effect), seconds}, Value: 1})
				}
				return out
			},
		},
		{
			Name: "kube_pod_nodeselectors", Help: "Describes the Pod nodeSelectors.", Type: Gauge, Stability: Alpha, OptIn: true,
			Gen: func(p *v1.Pod) []Metric {
				// One series even without a nodeSelector, as in KSM.
				keys, values := mapToLabels("nodeselector", p.Spec.NodeSelector)
				return []Metric{{Keys: keys, Values: values, Value: 1}}
			},
		},
	}
	fams = append(fams, podContainerFamilies(podContainers)...)
	fams = append(fams, podContainerFamilies(podInitContainers)...)
	return inOrder(fams, podFamilyOrder)
}

// podFamilyOrder is KSM's order of the pod families (its podMetricFamilies),
// the order of their headers on /metrics.
var podFamilyOrder = []string{
	"kube_pod_completion_time",
	"kube_pod_container_info",
	"kube_pod_container_resource_limits",
	"kube_pod_container_resource_requests",
	"kube_pod_container_state_started",
	"kube_pod_container_status_last_terminated_reason",
	"kube_pod_container_status_last_terminated_exitcode",
	"kube_pod_container_status_last_terminated_timestamp",
	"kube_pod_container_status_ready",
	"kube_pod_container_status_restarts_total",
	"kube_pod_container_status_running",
	"kube_pod_container_status_terminated",
	"kube_pod_container_status_terminated_reason",
	"kube_pod_container_status_waiting",
	"kube_pod_container_status_waiting_reason",
	"kube_pod_created",
	"kube_pod_deletion_timestamp",
	"kube_pod_info",
	"kube_pod_ips",
	"kube_pod_init_container_info",
	"kube_pod_init_container_resource_limits",
	"kube_pod_init_container_resource_requests",
	"kube_pod_init_container_state_started",
	"kube_pod_init_container_status_last_terminated_reason",
	"kube_pod_init_container_status_last_terminated_exitcode",
	"kube_pod_init_container_status_last_terminated_timestamp",
	"kube_pod_init_container_status_ready",
	"kube_pod_init_container_status_restarts_total",
	"kube_pod_init_container_status_running",
	"kube_pod_init_container_status_terminated",
	"kube_pod_init_container_status_terminated_reason",
	"kube_pod_init_container_status_waiting",
	"kube_pod_init_container_status_waiting_reason",
	"kube_pod_annotations",
	"kube_pod_labels",
	"kube_pod_overhead_cpu_cores",
	"kube_pod_overhead_memory_bytes",
	"kube_pod_owner",
	"kube_pod_resourceclaim_info",
	"kube_pod_restart_policy",
	"kube_pod_runtimeclass_name_info",
	"kube_pod_spec_volumes_persistentvolumeclaims_info",
	"kube_pod_spec_volumes_persistentvolumeclaims_readonly",
	"kube_pod_start_time",
	"kube_pod_status_phase",
	"kube_pod_status_qos_class",
	"kube_pod_status_ready",
	"kube_pod_status_ready_time",
	"kube_pod_status_initialized_time",
	"kube_pod_status_container_ready_time",
	"kube_pod_status_reason",
	"kube_pod_status_disruption_reason",
	"kube_pod_status_scheduled",
	"kube_pod_status_scheduled_time",
	"kube_pod_status_unschedulable",
	"kube_pod_status_unscheduled_time",
	"kube_pod_tolerations",
	"kube_pod_nodeselectors",
	"kube_pod_service_account",
	"kube_pod_scheduler",
}

func podInfo(p *v1.Pod) []Metric {
	// created_by_* come from the controlling owner reference (metav1.GetControllerOf),
	// looked up in place to avoid its copy.
	var kind, name string
	for i := range p.OwnerReferences {
		if r := &p.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			kind, name = r.Kind, r.Name
			break
		}
	}
	return []Metric{{Keys: podKeysPodInfo, Value: 1, Values: []string{
		p.Status.HostIP, p.Status.PodIP, p.Spec.NodeName, kind, name, p.Spec.PriorityClassName, boolString(p.Spec.HostNetwork),
	}}}
}

// podLabelMetric is a single series of value 1 with one label.
func podLabelMetric(keys []string, value string) []Metric {
	return []Metric{{Keys: keys, Values: []string{value}, Value: 1}}
}

// podCompletionTime is the latest finishedAt over the containers that are
// terminated now, or nothing when that is not after the epoch (as in KSM).
func podCompletionTime(p *v1.Pod) []Metric {
	var last float64
	for i := range p.Status.ContainerStatuses {
		if t := p.Status.ContainerStatuses[i].State.Terminated; t != nil {
			last = max(last, float64(t.FinishedAt.Unix()))
		}
	}
	if last <= 0 {
		return nil
	}
	return one(last)
}

// podStateSet is a state set: one series per state, 1 for the current one; none when
// the current state is empty.
func podStateSet[S comparable](current S, states []S, values [][]string, keys []string) []Metric {
	var zero S
	if current == zero {
		return nil
	}
	out := make([]Metric, len(states))
	for i, s := range states {
		out[i] = Metric{Keys: keys, Values: values[i], Value: boolFloat(s == current)}
	}
	return out
}

// podConditionStatus is the three condition=true|false|unknown series of every
// condition of type t.
func podConditionStatus(t v1.PodConditionType) func(*v1.Pod) []Metric {
	return func(p *v1.Pod) []Metric {
		var out []Metric
		for i := range p.Status.Conditions {
			if c := &p.Status.Conditions[i]; c.Type == t {
				out = append(out, conditionMetrics("condition", c.Status)...)
			}
		}
		return out
	}
}

// podConditionTime is the lastTransitionTime of every condition of type t with
// status s. Like KSM it does not skip a zero time.
func podConditionTime(t v1.PodConditionType, s v1.ConditionStatus) func(*v1.Pod) []Metric {
	return func(p *v1.Pod) []Metric {
		var out []Metric
		for i := range p.Status.Conditions {
			if c := &p.Status.Conditions[i]; c.Type == t && c.Status == s {
				out = append(out, Metric{Value: float64(c.LastTransitionTime.Unix())})
			}
		}
		return out
	}
}

// podStatusReason has one series per known reason found in status.reason, a
// condition reason or the reason of a container terminated now, plus "Other"
// when status.reason is set to a reason outside the known set.
func podStatusReason(p *v1.Pod) []Metric {
	var out []Metric
	for _, r := range podStatusReasons {
		if podHasReason(p, r) {
			out = append(out, Metric{Keys: podKeysReason, Values: []string{r}, Value: 1})
		}
	}
	if p.Status.Reason != "" && !slices.Contains(podStatusReasons, p.Status.Reason) {
		out = append(out, Metric{Keys: podKeysReason, Values: []string{podOtherReason}, Value: 1})
	}
	return out
}

func podHasReason(p *v1.Pod, reason string) bool {
	if p.Status.Reason == reason {
		return true
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Reason == reason {
			return true
		}
	}
	for i := range p.Status.ContainerStatuses {
		if t := p.Status.ContainerStatuses[i].State.Terminated; t != nil && t.Reason == reason {
			return true
		}
	}
	return false
}

// podClaimVolumes is one series per PVC-backed volume: a persistentVolumeClaim
// volume, or a generic ephemeral volume whose claim is named <pod>-<volume>.
// Its value is 1, or with readOnly the volume's readOnly flag (always 0 for
// ephemeral volumes).
func podClaimVolumes(p *v1.Pod, readOnly bool) []Metric {
	var out []Metric
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		value := 1.0
		switch {
		case v.PersistentVolumeClaim != nil:
			if readOnly {
				value = boolFloat(v.PersistentVolumeClaim.ReadOnly)
			}
			out = append(out, Metric{Keys: podKeysPVC, Values: []string{v.Name, v.PersistentVolumeClaim.ClaimName, "false"}, Value: value})
		case v.Ephemeral != nil:
			if readOnly {
				value = 0
			}
			out = append(out, Metric{Keys: podKeysPVC, Values: []string{v.Name, p.Name + "-" + v.Name, "true"}, Value: value})
		}
	}
	return out
}

// podResourceClaims is one series per spec.resourceClaims entry that names a
// claim or a template. A template's generated claim name comes from
// status.resourceClaimStatuses and is empty until the controller has created it.
func podResourceClaims(p *v1.Pod) []Metric {
	var out []Metric
	for i := range p.Spec.ResourceClaims {
		rc := &p.Spec.ResourceClaims[i]
		var claim, template string
		switch {
		case rc.ResourceClaimName != nil:
			claim = *rc.ResourceClaimName
		case rc.ResourceClaimTemplateName != nil:
			template = *rc.ResourceClaimTemplateName
			for j := range p.Status.ResourceClaimStatuses {
				if s := &p.Status.ResourceClaimStatuses[j]; s.Name == rc.Name && s.ResourceClaimName != nil {
					claim = *s.ResourceClaimName
					break
				}
			}
		default:
			continue
		}
		out = append(out, Metric{Keys: podKeysClaim, Values: []string{rc.Name, claim, template}, Value: 1})
	}
	return out
}

// podIPFamily is "4" or "6" for a pod IP, or "" when KSM cannot parse it. KSM
// parses with k8s.io/utils/net.ParseIPSloppy: IPv4-mapped IPv6 counts as IPv4,
// IPv4 octets may have leading zeros, zones are rejected.
func podIPFamily(s string) string {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		if podSloppyIPv4(s) {
			return "4"
		}
		return ""
	case a.Zone() != "":
		return ""
	case a.Is4() || a.Is4In6():
		return "4"
	default:
		return "6"
	}
}

// podSloppyIPv4 reports whether s is a dotted quad of decimal octets that may have
// leading zeros, which netip rejects and ParseIPSloppy accepts.
func podSloppyIPv4(s string) bool {
	if strings.Count(s, ".") != 3 {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		n, err := strconv.Atoi(part)
		if err != nil || n > 255 || part[0] == '+' || part[0] == '-' {
			return false
		}
	}
	return true
}
