package collectors

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestJobGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	started := metav1.Unix(1501569020, 0)
	completed := metav1.Unix(1501569118, 0)
	runGolden(t, "jobs", []goldenCase{
		{name: "succeeded", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "backup-1", Namespace: "ns1", UID: "j1", CreationTimestamp: created,
				OwnerReferences: []metav1.OwnerReference{{Kind: "CronJob", Name: "backup", Controller: new(true)}}},
			Spec: batchv1.JobSpec{Parallelism: new(int32(2)), Completions: new(int32(3)), ActiveDeadlineSeconds: new(int64(900))},
			Status: batchv1.JobStatus{
				Succeeded: 3, Ready: new(int32(0)), StartTime: &started, CompletionTime: &completed,
				Conditions: []batchv1.JobCondition{
					{Type: batchv1.JobSuccessCriteriaMet, Status: v1.ConditionTrue},
					{Type: batchv1.JobComplete, Status: v1.ConditionTrue},
				},
			},
		}},
		// failed>0 with a known reason: one 0/1 series per known reason and no count.
		{name: "failed-backoff-limit", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "flaky", Namespace: "ns1", UID: "j2", CreationTimestamp: created},
			Spec:       batchv1.JobSpec{Parallelism: new(int32(1)), Completions: new(int32(1))},
			Status: batchv1.JobStatus{
				Failed: 7, StartTime: &started,
				Conditions: []batchv1.JobCondition{
					{Type: batchv1.JobFailureTarget, Status: v1.ConditionTrue, Reason: "BackoffLimitExceeded"},
					{Type: batchv1.JobFailed, Status: v1.ConditionTrue, Reason: "BackoffLimitExceeded"},
				},
			},
		}},
		{name: "failed-deadline-exceeded", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: "ns1", UID: "j3", CreationTimestamp: created},
			Spec:       batchv1.JobSpec{ActiveDeadlineSeconds: new(int64(60))},
			Status: batchv1.JobStatus{
				Failed:     1,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: v1.ConditionTrue, Reason: "DeadlineExceeded"}},
			},
		}},
		// failed>0 with a Failed condition of another reason: the three known reasons
		// are 0 and a series without reason carries the count.
		{name: "failed-unknown-reason", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "policy", Namespace: "ns1", UID: "j4", CreationTimestamp: created},
			Status: batchv1.JobStatus{
				Failed:     2,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: v1.ConditionTrue, Reason: "PodFailurePolicy"}},
			},
		}},
		// failed>0 without a Failed condition (still retrying): only the count.
		{name: "failed-pods-still-running", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "retrying", Namespace: "ns1", UID: "j5", CreationTimestamp: created},
			Status:     batchv1.JobStatus{Failed: 3, Active: 1, Ready: new(int32(1)), StartTime: &started},
		}},
		// failed==0: one series without reason, value 0, whatever the conditions say.
		{name: "no-failures-failed-condition-false", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "odd", Namespace: "ns1", UID: "j6", CreationTimestamp: created},
			Status: batchv1.JobStatus{
				Conditions: []batchv1.JobCondition{
					{Type: batchv1.JobFailed, Status: v1.ConditionFalse, Reason: "Evicted"},
					{Type: batchv1.JobComplete, Status: v1.ConditionUnknown},
				},
			},
		}},
		{name: "suspended", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: "ns1", UID: "j7", CreationTimestamp: created,
				OwnerReferences: []metav1.OwnerReference{{Kind: "Workload", Name: "queue"}}},
			Spec: batchv1.JobSpec{Suspend: new(true), Parallelism: new(int32(0))},
			Status: batchv1.JobStatus{
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: v1.ConditionTrue, Reason: "JobSuspended"}},
			},
		}},
		{name: "resumed", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "resumed", Namespace: "ns1", UID: "j8", CreationTimestamp: created},
			Status: batchv1.JobStatus{
				Active: 2, Ready: new(int32(2)), StartTime: &started,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: v1.ConditionFalse, Reason: "JobResumed"}},
			},
		}},
		{name: "allowlists", obj: &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "j9", CreationTimestamp: created,
				Labels:      map[string]string{"batch.kubernetes.io/job-name": "labelled", "app": "x"},
				Annotations: map[string]string{"app": "y", "other": "z"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		{name: "empty", obj: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "j10"}}},
	})
}
