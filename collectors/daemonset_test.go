package collectors

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDaemonSetGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "daemonsets", []goldenCase{
		{name: "rolling-out", obj: &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "node-exporter", Namespace: "monitoring", UID: "ds1", CreationTimestamp: created, Generation: 7},
			Status: appsv1.DaemonSetStatus{
				CurrentNumberScheduled: 10, DesiredNumberScheduled: 12, NumberAvailable: 9, NumberMisscheduled: 1,
				NumberReady: 8, NumberUnavailable: 3, ObservedGeneration: 6, UpdatedNumberScheduled: 4,
			},
		}},
		{name: "deleting", obj: &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "old-agent", Namespace: "kube-system", UID: "ds2", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 2},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 2},
		}},
		{name: "allowlists", obj: &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "ds3", CreationTimestamp: created,
				Labels:      map[string]string{"app.kubernetes.io/name": "x", "team": "a", "other": "no"},
				Annotations: map[string]string{"deprecated.daemonset.template.generation": "3", "owner": "me"}},
		}, opts: Options{AllowLabels: []string{"app.kubernetes.io/*", "team"}, AllowAnnotations: []string{"*"}}},
		{name: "empty", obj: &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "ds4"}}},
	})
}
