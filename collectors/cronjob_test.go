package collectors

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The schedules of CronJobs without a time zone fire every quarter hour, so that
// their next time is the same in every local zone of the test machine.
func TestCronJobGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0) // 2017-08-01 06:30:18 UTC
	// 2018-03-11 12:34:56 in Asia/Shanghai (04:34:56 UTC).
	lastScheduled := metav1.Unix(1520742896, 0)
	lastSucceeded := metav1.Unix(1520742900, 0)
	cronJob := func(name, schedule string) *batchv1.CronJob {
		return &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns1", UID: types.UID("cj-" + name), CreationTimestamp: created, ResourceVersion: "11111"},
			Spec:       batchv1.CronJobSpec{Schedule: schedule, ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: new(false)},
		}
	}
	withTZ := func(cj *batchv1.CronJob, tz string) *batchv1.CronJob { cj.Spec.TimeZone = &tz; return cj }
	withLast := func(cj *batchv1.CronJob) *batchv1.CronJob { cj.Status.LastScheduleTime = &lastScheduled; return cj }
	runGolden(t, "cronjobs", []goldenCase{
		// Next run after lastScheduleTime in the CronJob's zone: 18:00 Shanghai is 10:00 UTC (1520762400).
		{name: "active-with-timezone", obj: &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "ns1", UID: "cj1", CreationTimestamp: created, ResourceVersion: "11111",
				Labels:      map[string]string{"app": "report"},
				Annotations: map[string]string{"app": "mysql-server", "app.k8s.io/owner": "@foo"}},
			Spec: batchv1.CronJobSpec{
				Schedule: "0 */6 * * *", TimeZone: new("Asia/Shanghai"), ConcurrencyPolicy: batchv1.ForbidConcurrent,
				Suspend: new(false), StartingDeadlineSeconds: new(int64(300)),
				SuccessfulJobsHistoryLimit: new(int32(3)), FailedJobsHistoryLimit: new(int32(1)),
			},
			Status: batchv1.CronJobStatus{
				Active:           []v1.ObjectReference{{Name: "report-1"}, {Name: "report-2"}},
				LastScheduleTime: &lastScheduled, LastSuccessfulTime: &lastSucceeded,
			},
		}, opts: Options{AllowAnnotations: []string{"app.k8s.io/owner"}}},
		// Never scheduled: the next run after creation, 06:45:00 UTC (1501569900).
		{name: "never-scheduled-local-zone", obj: cronJob("fresh", "*/15 * * * *")},
		// Suspended: no next time, spec_suspend 1.
		{name: "suspended", obj: func() *batchv1.CronJob {
			cj := withLast(withTZ(cronJob("paused", "0 */3 * * *"), "Asia/Shanghai"))
			cj.Spec.Suspend = new(true)
			return cj
		}()},
		// Unset suspend counts as not suspended: spec_suspend 0 and a next time (06:35:00 UTC, 1501569300).
		{name: "nil-suspend", obj: func() *batchv1.CronJob {
			cj := cronJob("nilsuspend", "*/5 * * * *")
			cj.Spec.Suspend = nil
			return cj
		}()},
		// Steps not smaller than their range: robfig/cron accepts them, KSM's parser does not.
		{name: "invalid-minute-step", obj: withLast(cronJob("step120", "*/120 4-22 * * *"))},
		{name: "invalid-day-step", obj: withLast(cronJob("step32", "0 1 */32,1-7 * 3"))},
		{name: "invalid-range-step", obj: withLast(cronJob("step2of2", "5-6/2 * * * *"))},
		{name: "invalid-timezone", obj: withLast(withTZ(cronJob("badzone", "0 */6 * * *"), "Invalid/Zone"))},
		{name: "invalid-garbage", obj: withLast(cronJob("garbage", "every day at noon"))},
		{name: "invalid-sub-second-every", obj: withLast(cronJob("fast", "@every 500ms"))},
		{name: "invalid-zone-only", obj: withLast(cronJob("zoneonly", "TZ=UTC"))},
		{name: "invalid-empty", obj: withLast(cronJob("empty", ""))},
		// A suspended CronJob with a bad schedule is still reported as invalid.
		{name: "invalid-and-suspended", obj: func() *batchv1.CronJob {
			cj := withLast(cronJob("badpaused", "61 * * * *"))
			cj.Spec.Suspend = new(true)
			return cj
		}()},
		// Steps below their range, names, and a day-of-week step of 7 (the range runs to 7):
		// Sundays at 00:00, 00:30, 12:00 and 12:30; the next after Sunday 2018-03-11 04:34:56 UTC
		// is 12:00 that day (1520769600).
		{name: "valid-steps-and-names", obj: withLast(withTZ(cronJob("steps", "*/30 */12 * jan-dec/1 */7"), "UTC"))},
		// Descriptors: @every from lastScheduleTime (+90m = 1520748296), @hourly in a zone.
		{name: "every-descriptor", obj: withLast(cronJob("every", "@every 90m"))},
		{name: "hourly-descriptor", obj: withLast(withTZ(cronJob("hourly", "@hourly"), "Asia/Kolkata"))},
		// A zone in the schedule itself works as in robfig/cron.
		{name: "zone-in-schedule", obj: withLast(cronJob("inline", "CRON_TZ=America/New_York 0 9 * * 1-5"))},
		// February 30th never comes: KSM reports the zero time's Unix seconds.
		{name: "never-fires", obj: withLast(withTZ(cronJob("feb30", "0 0 30 2 *"), "UTC"))},
		// Neither lastScheduleTime nor creationTimestamp: no next time, and the schedule is fine.
		{name: "no-times", obj: &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: "timeless", Namespace: "ns1", UID: "cj-timeless", ResourceVersion: "not-a-number"},
			Spec:       batchv1.CronJobSpec{Schedule: "*/5 * * * *"},
		}},
		{name: "allowlists", obj: func() *batchv1.CronJob {
			cj := cronJob("labelled", "*/15 * * * *")
			cj.Labels = map[string]string{"app.kubernetes.io/name": "x", "team": "a"}
			cj.Annotations = map[string]string{"owner": "me", "note": "n"}
			return cj
		}(), opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"owner"}}},
	})
}

// The next time is computed in the CronJob's zone, across its UTC offset.
func TestCronJobNextScheduleTimeInZone(t *testing.T) {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns1", CreationTimestamp: metav1.Unix(1501569018, 0)},
		Spec:       batchv1.CronJobSpec{Schedule: "0 4 * * *", TimeZone: new("Europe/Berlin")},
	}
	// 2017-08-02 04:00 in Berlin (CEST, UTC+2) is 02:00 UTC.
	want := float64(time.Date(2017, 8, 2, 2, 0, 0, 0, time.UTC).Unix())
	if got := cronJobNextScheduleTime(cj); len(got) != 1 || got[0].Value != want {
		t.Errorf("next schedule time %v, want %v", got, want)
	}
}
