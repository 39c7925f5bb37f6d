package collectors

import (
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// jobResource is the jobs resource.
func jobResource() Resource {
	return &resource[*batchv1.Job]{
		name:       "jobs",
		namespaced: true,
		newObject:  func() *batchv1.Job { return &batchv1.Job{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.BatchV1().Jobs(ns).List, c.BatchV1().Jobs(ns).Watch)
		},
		// job_name, not job, so that it does not clash with Prometheus's target label.
		objectLabels: func(j *batchv1.Job) []Label {
			return []Label{{Name: "namespace", Value: j.Namespace}, {Name: "job_name", Value: j.Name}}
		},
		families: jobFamilies,
	}
}

// jobFailureReasons are the Failed condition reasons that kube_job_status_failed
// reports as 0/1 series.
var jobFailureReasons = []string{"BackoffLimitExceeded", "DeadlineExceeded", "Evicted"}

func jobFamilies(o Options) []Family[*batchv1.Job] {
	return []Family[*batchv1.Job]{
		annotationsFamily[*batchv1.Job]("job", Alpha, o.AllowAnnotations),
		labelsFamily[*batchv1.Job]("job", Stable, o.AllowLabels),
		{
			Name: "kube_job_info", Help: "Information about job.", Type: Gauge, Stability: Stable,
			Gen: func(*batchv1.Job) []Metric { return one(1) },
		},
		createdFamily[*batchv1.Job]("job", Stable),
		{
			Name: "kube_job_spec_parallelism", Type: Gauge, Stability: Stable,
			Help: "The maximum desired number of pods the job should run at any given time.",
			Gen:  func(j *batchv1.Job) []Metric { return optional(j.Spec.Parallelism) },
		},
		{
			Name: "kube_job_spec_completions", Type: Gauge, Stability: Stable,
			Help: "The desired number of successfully finished pods the job should be run with.",
			Gen:  func(j *batchv1.Job) []Metric { return optional(j.Spec.Completions) },
		},
		{
			Name: "kube_job_spec_active_deadline_seconds", Type: Gauge, Stability: Stable,
			Help: "The duration in seconds relative to the startTime that the job may be active before the system tries to terminate it.",
			Gen:  func(j *batchv1.Job) []Metric { return optional(j.Spec.ActiveDeadlineSeconds) },
		},
		{
			Name: "kube_job_status_succeeded", Help: "The number of pods which reached Phase Succeeded.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return one(float64(j.Status.Succeeded)) },
		},
		{
			Name: "kube_job_status_failed", Help: "The number of pods which reached Phase Failed and the reason for failure.", Type: Gauge, Stability: Stable,
			Gen: jobStatusFailed,
		},
		{
			Name: "kube_job_status_active", Help: "The number of actively running pods.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return one(float64(j.Status.Active)) },
		},
		{
			Name: "kube_job_status_ready", Help: "The number of ready pods that belong to this Job.", Type: Gauge, Stability: Alpha,
			Gen: func(j *batchv1.Job) []Metric {
				if j.Status.Ready == nil {
					return one(0)
				}
				return one(float64(*j.Status.Ready))
			},
		},
		{
			Name: "kube_job_complete", Help: "The job has completed its execution.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return jobConditionMetrics(j, batchv1.JobComplete) },
		},
		{
			Name: "kube_job_failed", Help: "The job has failed its execution.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return jobConditionMetrics(j, batchv1.JobFailed) },
		},
		{
			Name: "kube_job_status_start_time", Type: Gauge, Stability: Stable,
			Help: "StartTime represents time when the job was acknowledged by the Job Manager.",
			Gen:  func(j *batchv1.Job) []Metric { return timeMetric(j.Status.StartTime) },
		},
		{
			Name: "kube_job_status_completion_time", Help: "CompletionTime represents time when the job was completed.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return timeMetric(j.Status.CompletionTime) },
		},
		{
			Name: "kube_job_status_suspended", Help: "The number of pods which reached Phase Suspended.", Type: Gauge, Stability: Alpha,
			Gen: func(j *batchv1.Job) []Metric {
				var out []Metric
				for _, c := range j.Status.Conditions {
					if c.Type == batchv1.JobSuspended {
						out = append(out, Metric{Value: boolFloat(c.Status == v1.ConditionTrue)})
					}
				}
				return out
			},
		},
		{
			Name: "kube_job_owner", Help: "Information about the Job's owner.", Type: Gauge, Stability: Stable,
			Gen: func(j *batchv1.Job) []Metric { return ownerMetrics(j.OwnerReferences, true) },
		},
	}
}

// jobConditionMetrics is condition=true|false|unknown for each condition of type t.
func jobConditionMetrics(j *batchv1.Job, t batchv1.JobConditionType) []Metric {
	var out []Metric
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			out = append(out, conditionMetrics("condition", c.Status)...)
		}
	}
	return out
}

// jobStatusFailed is KSM's kube_job_status_failed. With no failed pods it is one
// series without a reason, value 0. Otherwise each Failed condition gives one 0/1
// series per known reason, and when none of those reasons matched, one series with
// an empty reason (dropped) carries the count of failed pods.
func jobStatusFailed(j *batchv1.Job) []Metric {
	if j.Status.Failed == 0 {
		return one(0)
	}
	var out []Metric
	known := false
	for _, c := range j.Status.Conditions {
		if c.Type != batchv1.JobFailed {
			continue
		}
		for _, r := range jobFailureReasons {
			known = known || c.Reason == r
			out = append(out, m(boolFloat(c.Reason == r), "reason", r))
		}
	}
	if !known {
		out = append(out, m(float64(j.Status.Failed), "reason", ""))
	}
	return out
}
