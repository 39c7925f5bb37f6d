package collectors

import (
	"time"

	// CronJob time zones must resolve whether or not the image ships tzdata,
	// as in kube-state-metrics, which embeds it too.
	_ "time/tzdata"

	cron "github.com/netresearch/go-cron"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// cronJobResource is the cronjobs resource.
func cronJobResource() Resource {
	return &resource[*batchv1.CronJob]{
		name:       "cronjobs",
		namespaced: true,
		newObject:  func() *batchv1.CronJob { return &batchv1.CronJob{} },
		listWatch: func(c kubernetes.Interface, ns string) *cache.ListWatch {
			return newListWatch(c.BatchV1().CronJobs(ns).List, c.BatchV1().CronJobs(ns).Watch)
		},
		objectLabels: func(cj *batchv1.CronJob) []Label {
			return []Label{{Name: "namespace", Value: cj.Namespace}, {Name: "cronjob", Value: cj.Name}}
		},
		families: cronJobFamilies,
	}
}

func cronJobFamilies(o Options) []Family[*batchv1.CronJob] {
	return []Family[*batchv1.CronJob]{
		annotationsFamily[*batchv1.CronJob]("cronjob", Alpha, o.AllowAnnotations),
		labelsFamily[*batchv1.CronJob]("cronjob", Stable, o.AllowLabels),
		{
			Name: "kube_cronjob_info", Help: "Info about cronjob.", Type: Gauge, Stability: Stable,
			Gen: func(cj *batchv1.CronJob) []Metric {
				tz := "local"
				if cj.Spec.TimeZone != nil {
					tz = *cj.Spec.TimeZone
				}
				return []Metric{m(1, "schedule", cj.Spec.Schedule,
					"concurrency_policy", string(cj.Spec.ConcurrencyPolicy), "timezone", tz)}
			},
		},
		createdFamily[*batchv1.CronJob]("cronjob", Stable),
		{
			Name: "kube_cronjob_status_active", Help: "Active holds pointers to currently running jobs.", Type: Gauge, Stability: Stable,
			Gen: func(cj *batchv1.CronJob) []Metric { return one(float64(len(cj.Status.Active))) },
		},
		{
			Name: "kube_cronjob_status_last_schedule_time", Type: Gauge, Stability: Stable,
			Help: "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
			Gen:  func(cj *batchv1.CronJob) []Metric { return timeMetric(cj.Status.LastScheduleTime) },
		},
		{
			Name: "kube_cronjob_status_last_successful_time", Type: Gauge, Stability: Stable,
			Help: "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
			Gen:  func(cj *batchv1.CronJob) []Metric { return timeMetric(cj.Status.LastSuccessfulTime) },
		},
		{
			Name: "kube_cronjob_spec_suspend", Help: "Suspend flag tells the controller to suspend subsequent executions.", Type: Gauge, Stability: Stable,
			// The checklist (KSM v2.20) reads an unset suspend as false; the
			// apiserver defaults it to false anyway.
			Gen: func(cj *batchv1.CronJob) []Metric { return one(boolFloat(cronJobSuspended(cj))) },
		},
		{
			Name: "kube_cronjob_spec_starting_deadline_seconds", Type: Gauge, Stability: Stable,
			Help: "Deadline in seconds for starting the job if it misses scheduled time for any reason.",
			Gen:  func(cj *batchv1.CronJob) []Metric { return optional(cj.Spec.StartingDeadlineSeconds) },
		},
		{
			Name: "kube_cronjob_next_schedule_time", Type: Gauge, Stability: Stable,
			Help: "Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to determine if the job is delayed.",
			Gen:  cronJobNextScheduleTime,
		},
		{
			Name: "kube_cronjob_schedule_invalid", Type: Gauge, Stability: Alpha,
			Help: "Emitted with value 1 for cronjobs whose schedule, in its configured timezone, cannot be parsed.",
			Gen: func(cj *batchv1.CronJob) []Metric {
				if _, ok := parseCronSchedule(cj.Spec.Schedule, cj.Spec.TimeZone); ok {
					return nil
				}
				return one(1)
			},
		},
		resourceVersionFamily[*batchv1.CronJob]("cronjob", Stable),
		{
			Name: "kube_cronjob_spec_successful_job_history_limit", Type: Gauge, Stability: Alpha,
			Help: "Successful job history limit tells the controller how many completed jobs should be preserved.",
			Gen:  func(cj *batchv1.CronJob) []Metric { return optional(cj.Spec.SuccessfulJobsHistoryLimit) },
		},
		{
			Name: "kube_cronjob_spec_failed_job_history_limit", Type: Gauge, Stability: Alpha,
			Help: "Failed job history limit tells the controller how many failed jobs should be preserved.",
			Gen:  func(cj *batchv1.CronJob) []Metric { return optional(cj.Spec.FailedJobsHistoryLimit) },
		},
	}
}

func cronJobSuspended(cj *batchv1.CronJob) bool { return cj.Spec.Suspend != nil && *cj.Spec.Suspend }

// cronJobNextScheduleTime is the first fire time of the schedule after the last
// scheduled run or, when there was none, after the creation time. It depends only
// on the object (and the process's local zone for a CronJob without a time zone),
// never on the clock. There is no series while the CronJob is suspended, when the
// schedule is invalid, or when neither time is set. A schedule that never fires
// (such as February 30th) yields the zero time's Unix seconds, as in KSM.
func cronJobNextScheduleTime(cj *batchv1.CronJob) []Metric {
	if cronJobSuspended(cj) {
		return nil
	}
	sched, ok := parseCronSchedule(cj.Spec.Schedule, cj.Spec.TimeZone)
	if !ok {
		return nil
	}
	var from time.Time
	switch {
	case !cj.Status.LastScheduleTime.IsZero():
		from = cj.Status.LastScheduleTime.Time
	case !cj.CreationTimestamp.IsZero():
		from = cj.CreationTimestamp.Time
	default:
		return nil
	}
	return one(float64(sched.Next(from).Unix()))
}

// parseCronSchedule parses a CronJob schedule in its time zone (CRON_TZ; the
// process's local zone when unset) with the parser KSM v2.20 uses, so that
// kube_cronjob_schedule_invalid and the next schedule time agree with KSM. ok is
// false when the schedule or zone is unusable.
func parseCronSchedule(schedule string, tz *string) (cron.Schedule, bool) {
	if tz != nil {
		schedule = "CRON_TZ=" + *tz + " " + schedule
	}
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return nil, false
	}
	return sched, true
}
