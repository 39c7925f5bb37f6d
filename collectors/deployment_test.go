package collectors

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDeploymentGolden(t *testing.T) {
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	runGolden(t, "deployments", []goldenCase{
		{name: "percent-rolling-update", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "d1", CreationTimestamp: created, Generation: 21,
				OwnerReferences: []metav1.OwnerReference{{Kind: "Rollout", Name: "web-rollout", Controller: new(true)}}},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(10)),
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
					// 25% of 10 is 2.5: maxUnavailable rounds down to 2, maxSurge up to 3.
					MaxUnavailable: new(intstr.FromString("25%")),
					MaxSurge:       new(intstr.FromString("25%")),
				}},
			},
			Status: appsv1.DeploymentStatus{
				Replicas: 15, ReadyReplicas: 10, AvailableReplicas: 9, UnavailableReplicas: 5, UpdatedReplicas: 2,
				TerminatingReplicas: new(int32(3)), ObservedGeneration: 20,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: v1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
					{Type: appsv1.DeploymentProgressing, Status: v1.ConditionFalse, Reason: "ProgressDeadlineExceeded"},
				},
			},
		}},
		{name: "int-rolling-update-paused", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "ns2", UID: "d2", CreationTimestamp: created, Generation: 3},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(200)),
				Paused:   true,
				Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: new(intstr.FromInt32(10)),
					MaxSurge:       new(intstr.FromInt32(0)),
				}},
			},
			Status: appsv1.DeploymentStatus{
				Replicas: 200, ReadyReplicas: 200, AvailableReplicas: 200, UpdatedReplicas: 200, ObservedGeneration: 3,
				TerminatingReplicas: new(int32(0)),
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentProgressing, Status: v1.ConditionUnknown, Reason: "DeploymentPaused"},
					// An empty reason is allowed and drops the label.
					{Type: appsv1.DeploymentAvailable, Status: v1.ConditionTrue},
				},
			},
		}},
		{name: "unparseable-rolling-update", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "ns1", UID: "d3"},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(4)),
				Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: new(intstr.FromString("abc%")),
					MaxSurge:       new(intstr.FromString("3")), // a string must be a percentage
				}},
			},
		}},
		{name: "rolling-update-unset-values", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "partial", Namespace: "ns1", UID: "d4"},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(3)),
				Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: nil,
					MaxSurge:       new(intstr.FromString("50%")), // 1.5 rounds up to 2
				}},
			},
		}},
		{name: "recreate", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns1", UID: "d5", CreationTimestamp: created},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(1)),
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			},
			Status: appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1},
		}},
		{name: "nil-replicas", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "noreplicas", Namespace: "ns1", UID: "d6"},
			Spec: appsv1.DeploymentSpec{
				Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: new(intstr.FromString("25%")),
					MaxSurge:       new(intstr.FromInt32(1)),
				}},
			},
		}},
		{name: "unknown-reasons-deleting-owners", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "ns3", UID: "d7", CreationTimestamp: created,
				DeletionTimestamp: &deleted, Generation: 9,
				OwnerReferences: []metav1.OwnerReference{
					{Kind: "HelmRelease", Name: "legacy"},
					{Kind: "Application", Name: "argo-legacy", Controller: new(false)},
				}},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(0))},
			Status: appsv1.DeploymentStatus{
				ObservedGeneration: 8,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentReplicaFailure, Status: v1.ConditionTrue, Reason: "FailedCreate"},
					{Type: appsv1.DeploymentProgressing, Status: v1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
					{Type: "Custom", Status: v1.ConditionFalse, Reason: "someone-elses-reason"},
				},
			},
		}},
		{name: "allowlists", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: "ns1", UID: "d8", CreationTimestamp: created,
				Labels:      map[string]string{"app.kubernetes.io/name": "x", "team": "a", "other": "no"},
				Annotations: map[string]string{"deployment.kubernetes.io/revision": "4", "owner": "me"}},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(2))},
		}, opts: Options{AllowLabels: []string{"app.kubernetes.io/*", "team"}, AllowAnnotations: []string{"*"}}},
		{name: "allowlist-without-matches", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns1", UID: "d9",
				Labels: map[string]string{"other": "no"}},
		}, opts: Options{AllowLabels: []string{"team"}, AllowAnnotations: []string{"owner"}}},
		{name: "empty", obj: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "ns1", UID: "d10"}}},
	})
}

func BenchmarkDeploymentGenerate(b *testing.B) {
	rs, err := Lookup([]string{"deployments"})
	if err != nil {
		b.Fatal(err)
	}
	g := rs[0].NewGenerator(Options{AllowLabels: []string{"app"}})
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "d1", CreationTimestamp: metav1.Unix(1501569018, 0),
			Generation: 4, Labels: map[string]string{"app": "web", "pod-template-hash": "abc"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(10)),
			Strategy: appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: new(intstr.FromString("25%")),
				MaxSurge:       new(intstr.FromString("25%")),
			}},
		},
		Status: appsv1.DeploymentStatus{
			Replicas: 10, ReadyReplicas: 10, AvailableReplicas: 10, UpdatedReplicas: 10, ObservedGeneration: 4,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: v1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: v1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Generate(d); !ok {
			b.Fatal("generator refused deployment")
		}
	}
}
