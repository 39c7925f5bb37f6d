package collectors

import (
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// podContainerSet is one of a pod's two container lists. kube_pod_container_* and
// kube_pod_init_container_* are the same families over different lists; only
// their names, help texts, stability levels and the sidecar restart_policy
// label of the info family differ.
type podContainerSet struct {
	prefix   string // metric name prefix
	noun     string // "container" or "init container", for help texts
	article  string // "a" or "an", to go with noun
	specs    func(p *v1.Pod) []v1.Container
	statuses func(p *v1.Pod) []v1.ContainerStatus
	// alpha lists the name suffixes of the families KSM declares ALPHA for this
	// list; the others are STABLE.
	alpha []string
	// restartPolicy adds the container's restartPolicy ("Always" for sidecars) to
	// the info family.
	restartPolicy bool
	// help replaces, by name suffix, the help texts KSM words otherwise for
	// this list.
	help map[string]string
}

var podContainers = podContainerSet{
	prefix: "kube_pod_container", noun: "container", article: "a",
	specs:    func(p *v1.Pod) []v1.Container { return p.Spec.Containers },
	statuses: func(p *v1.Pod) []v1.ContainerStatus { return p.Status.ContainerStatuses },
	alpha: []string{
		"_status_last_terminated_reason", "_status_last_terminated_exitcode", "_status_last_terminated_timestamp",
		"_status_terminated_reason",
	},
	help: map[string]string{
		"_resource_requests": "The number of requested request resource by a container. It is recommended to use the " +
			"kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
		"_resource_limits": "The number of requested limit resource by a container. It is recommended to use the " +
			"kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
		"_status_restarts_total": "The number of container restarts per container.",
	},
}

var podInitContainers = podContainerSet{
	prefix: "kube_pod_init_container", noun: "init container", article: "an",
	specs:    func(p *v1.Pod) []v1.Container { return p.Spec.InitContainers },
	statuses: func(p *v1.Pod) []v1.ContainerStatus { return p.Status.InitContainerStatuses },
	alpha: []string{
		"_resource_limits", "_resource_requests", "_state_started",
		"_status_last_terminated_reason", "_status_last_terminated_exitcode", "_status_last_terminated_timestamp",
		"_status_terminated_reason", "_status_waiting_reason",
	},
	restartPolicy: true,
}

var (
	podKeysContainer         = []string{"container"}
	podKeysContainerReason   = []string{"container", "reason"}
	podKeysContainerInfo     = []string{"container", "image_spec", "image", "image_id", "container_id"}
	podKeysInitContainerInfo = []string{"container", "image_spec", "image", "image_id", "container_id", "restart_policy"}
)

// podContainerFamilies returns the 14 families of one container list.
func podContainerFamilies(s podContainerSet) []Family[*v1.Pod] {
	fams := []Family[*v1.Pod]{
		{
			Name: s.prefix + "_info", Help: "Information about " + s.article + " " + s.noun + " in a pod.", Type: Gauge,
			Gen: s.info,
		},
		{
			Name: s.prefix + "_resource_requests", Help: "The number of requested request resource by " + s.article + " " + s.noun + ".", Type: Gauge,
			Gen: s.resources(func(c *v1.Container) v1.ResourceList { return c.Resources.Requests }),
		},
		{
			Name: s.prefix + "_resource_limits", Help: "The number of requested limit resource by " + s.article + " " + s.noun + ".", Type: Gauge,
			Gen: s.resources(func(c *v1.Container) v1.ResourceList { return c.Resources.Limits }),
		},
		{
			Name: s.prefix + "_status_ready", Help: "Describes whether the " + s.noun + "s readiness check succeeded.", Type: Gauge,
			Gen: s.perStatus(func(cs *v1.ContainerStatus) float64 { return boolFloat(cs.Ready) }),
		},
		{
			Name: s.prefix + "_status_restarts_total", Help: "The number of restarts for the " + s.noun + ".", Type: Counter,
			Gen: s.perStatus(func(cs *v1.ContainerStatus) float64 { return float64(cs.RestartCount) }),
		},
		{
			Name: s.prefix + "_status_running", Help: "Describes whether the " + s.noun + " is currently in running state.", Type: Gauge,
			Gen: s.perStatus(func(cs *v1.ContainerStatus) float64 { return boolFloat(cs.State.Running != nil) }),
		},
		{
			Name: s.prefix + "_status_terminated", Help: "Describes whether the " + s.noun + " is currently in terminated state.", Type: Gauge,
			Gen: s.perStatus(func(cs *v1.ContainerStatus) float64 { return boolFloat(cs.State.Terminated != nil) }),
		},
		{
			Name: s.prefix + "_status_waiting", Help: "Describes whether the " + s.noun + " is currently in waiting state.", Type: Gauge,
			Gen: s.perStatus(func(cs *v1.ContainerStatus) float64 { return boolFloat(cs.State.Waiting != nil) }),
		},
		{
			Name: s.prefix + "_status_terminated_reason", Help: "Describes the reason the " + s.noun + " is currently in terminated state.", Type: Gauge,
			Gen: s.reasons(func(cs *v1.ContainerStatus) (string, bool) {
				if t := cs.State.Terminated; t != nil {
					return t.Reason, true
				}
				return "", false
			}),
		},
		{
			Name: s.prefix + "_status_waiting_reason", Help: "Describes the reason the " + s.noun + " is currently in waiting state.", Type: Gauge,
			Gen: s.reasons(func(cs *v1.ContainerStatus) (string, bool) {
				if w := cs.State.Waiting; w != nil {
					return w.Reason, true
				}
				return "", false
			}),
		},
		{
			Name: s.prefix + "_status_last_terminated_reason", Help: "Describes the last reason the " + s.noun + " was in terminated state.", Type: Gauge,
			Gen: s.reasons(func(cs *v1.ContainerStatus) (string, bool) {
				if t := cs.LastTerminationState.Terminated; t != nil {
					return t.Reason, true
				}
				return "", false
			}),
		},
		// The time families below do not skip zero times, as in KSM: a kubelet that
		// lost a container reports lastState.terminated without timestamps.
		{
			Name: s.prefix + "_status_last_terminated_exitcode", Help: "Describes the exit code for the last " + s.noun + " in terminated state.", Type: Gauge,
			Gen: s.someStatuses(func(cs *v1.ContainerStatus) (float64, bool) {
				if t := cs.LastTerminationState.Terminated; t != nil {
					return float64(t.ExitCode), true
				}
				return 0, false
			}),
		},
		{
			Name: s.prefix + "_status_last_terminated_timestamp", Help: "Last terminated time for a pod " + s.noun + " in unix timestamp.", Type: Gauge,
			Gen: s.someStatuses(func(cs *v1.ContainerStatus) (float64, bool) {
				if t := cs.LastTerminationState.Terminated; t != nil {
					return float64(t.FinishedAt.Unix()), true
				}
				return 0, false
			}),
		},
		{
			Name: s.prefix + "_state_started", Help: "Start time in unix timestamp for a pod " + s.noun + ".", Type: Gauge,
			Gen: s.someStatuses(func(cs *v1.ContainerStatus) (float64, bool) {
				switch {
				case cs.State.Running != nil:
					return float64(cs.State.Running.StartedAt.Unix()), true
				case cs.State.Terminated != nil:
					return float64(cs.State.Terminated.StartedAt.Unix()), true
				}
				return 0, false
			}),
		},
	}
	for i := range fams {
		fams[i].Stability = Stable
		if h, ok := s.help[strings.TrimPrefix(fams[i].Name, s.prefix)]; ok {
			fams[i].Help = h
		}
		if slices.Contains(s.alpha, strings.TrimPrefix(fams[i].Name, s.prefix)) {
			fams[i].Stability = Alpha
		}
	}
	return fams
}

// info is one series per spec container that has a status of the same name:
// image_spec from the spec, image and IDs from the status.
func (s podContainerSet) info(p *v1.Pod) []Metric {
	specs, statuses := s.specs(p), s.statuses(p)
	out := make([]Metric, 0, len(statuses))
	for i := range specs {
		c := &specs[i]
		for j := range statuses {
			cs := &statuses[j]
			if cs.Name != c.Name {
				continue
			}
			if !s.restartPolicy {
				out = append(out, Metric{Keys: podKeysContainerInfo, Value: 1,
					Values: []string{cs.Name, c.Image, cs.Image, cs.ImageID, cs.ContainerID}})
				continue
			}
			var policy string
			if c.RestartPolicy != nil {
				policy = string(*c.RestartPolicy)
			}
			out = append(out, Metric{Keys: podKeysInitContainerInfo, Value: 1,
				Values: []string{cs.Name, c.Image, cs.Image, cs.ImageID, cs.ContainerID, policy}})
		}
	}
	return out
}

// resources is one series per spec container and resource in the list get
// returns, labelled with the container and the pod's node.
func (s podContainerSet) resources(get func(c *v1.Container) v1.ResourceList) func(*v1.Pod) []Metric {
	return func(p *v1.Pod) []Metric {
		var out []Metric
		specs := s.specs(p)
		for i := range specs {
			if rl := get(&specs[i]); len(rl) > 0 {
				out = append(out, resourceMetrics(rl, podResources, "container", specs[i].Name, "node", p.Spec.NodeName)...)
			}
		}
		return out
	}
}

// perStatus is one series per container status, labelled container.
func (s podContainerSet) perStatus(value func(cs *v1.ContainerStatus) float64) func(*v1.Pod) []Metric {
	return s.someStatuses(func(cs *v1.ContainerStatus) (float64, bool) { return value(cs), true })
}

// someStatuses is one series per container status for which value reports ok.
func (s podContainerSet) someStatuses(value func(cs *v1.ContainerStatus) (float64, bool)) func(*v1.Pod) []Metric {
	return func(p *v1.Pod) []Metric {
		statuses := s.statuses(p)
		out := make([]Metric, 0, len(statuses))
		for i := range statuses {
			if v, ok := value(&statuses[i]); ok {
				out = append(out, Metric{Keys: podKeysContainer, Values: []string{statuses[i].Name}, Value: v})
			}
		}
		return out
	}
}

// reasons is a series of value 1 labelled container and reason for each
// container status for which reason reports ok.
func (s podContainerSet) reasons(reason func(cs *v1.ContainerStatus) (string, bool)) func(*v1.Pod) []Metric {
	return func(p *v1.Pod) []Metric {
		var out []Metric
		statuses := s.statuses(p)
		for i := range statuses {
			if r, ok := reason(&statuses[i]); ok {
				out = append(out, Metric{Keys: podKeysContainerReason, Values: []string{statuses[i].Name, r}, Value: 1})
			}
		}
		return out
	}
}
