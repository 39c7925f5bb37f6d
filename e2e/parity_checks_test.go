package e2e

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fixtureChecks lists what waitFixtures waits for.
func fixtureChecks(ctx context.Context) []fixtureCheck {
	c := env.client
	get := metav1.GetOptions{}
	const ns = "parity"
	jobCondition := func(name string, want batchv1.JobConditionType) func() error {
		return func() error {
			j, err := c.BatchV1().Jobs(ns).Get(ctx, name, get)
			if err != nil {
				return err
			}
			for _, cond := range j.Status.Conditions {
				if cond.Type == want && cond.Status == v1.ConditionTrue {
					return nil
				}
			}
			return expect("job "+name+" condition "+string(want), false, j.Status)
		}
	}
	return []fixtureCheck{
		{"deployment web available", func() error {
			d, err := c.AppsV1().Deployments(ns).Get(ctx, "web", get)
			if err != nil {
				return err
			}
			s := d.Status
			return expect("status", s.AvailableReplicas == 2 && s.UpdatedReplicas == 2 && s.Replicas == 2 &&
				s.ObservedGeneration == d.Generation, s)
		}},
		{"statefulset db ready", func() error {
			s, err := c.AppsV1().StatefulSets(ns).Get(ctx, "db", get)
			if err != nil {
				return err
			}
			return expect("status", s.Status.AvailableReplicas == 2 && s.Status.CurrentRevision != "", s.Status)
		}},
		{"daemonset node-agent on every kwok node", func() error {
			d, err := c.AppsV1().DaemonSets(ns).Get(ctx, "node-agent", get)
			if err != nil {
				return err
			}
			s := d.Status
			return expect("status", s.DesiredNumberScheduled > 0 && s.NumberAvailable == s.DesiredNumberScheduled, s)
		}},
		{"replicaset solo-rs ready", func() error {
			r, err := c.AppsV1().ReplicaSets(ns).Get(ctx, "solo-rs", get)
			if err != nil {
				return err
			}
			return expect("status", r.Status.AvailableReplicas == 1, r.Status)
		}},
		{"replicationcontroller solo-rc ready", func() error {
			r, err := c.CoreV1().ReplicationControllers(ns).Get(ctx, "solo-rc", get)
			if err != nil {
				return err
			}
			return expect("status", r.Status.AvailableReplicas == 1, r.Status)
		}},
		{"job complete completed", jobCondition("complete", batchv1.JobComplete)},
		{"job fail failed", jobCondition("fail", batchv1.JobFailed)},
		{"job held suspended", jobCondition("held", batchv1.JobSuspended)},
		{"pod solo running with a crash-looping container", func() error {
			p, err := c.CoreV1().Pods(ns).Get(ctx, "solo", get)
			if err != nil {
				return err
			}
			return expect("status", p.Status.Phase == v1.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
				p.Status.ContainerStatuses[0].RestartCount == 3 && len(p.Status.InitContainerStatuses) == 2 &&
				p.Status.InitContainerStatuses[1].RestartCount == 1, p.Status)
		}},
		{"claim data bound", func() error {
			p, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", get)
			if err != nil {
				return err
			}
			return expect("phase", p.Status.Phase == v1.ClaimBound, p.Status)
		}},
		{"volume pv-released released", func() error {
			p, err := c.CoreV1().PersistentVolumes().Get(ctx, "pv-released", get)
			if err != nil {
				return err
			}
			return expect("phase", p.Status.Phase == v1.VolumeReleased, p.Status)
		}},
		{"namespace parity-doomed terminating", func() error {
			n, err := c.CoreV1().Namespaces().Get(ctx, "parity-doomed", get)
			if err != nil {
				return err
			}
			return expect("status", n.Status.Phase == v1.NamespaceTerminating && len(n.Status.Conditions) > 0, n.Status)
		}},
		{"endpoints web list both pods", func() error {
			e, err := c.CoreV1().Endpoints(ns).Get(ctx, "web", get) //nolint:staticcheck // KSM still reads Endpoints.
			if err != nil {
				return err
			}
			return expect("subsets", len(e.Subsets) == 1 && len(e.Subsets[0].Addresses) == 2, e.Subsets)
		}},
		{"pdb web observed", func() error {
			p, err := c.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "web", get)
			if err != nil {
				return err
			}
			return expect("status", p.Status.ObservedGeneration == p.Generation && p.Status.CurrentHealthy == 2, p.Status)
		}},
		{"hpa web has conditions", func() error {
			h, err := c.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", get)
			if err != nil {
				return err
			}
			return expect("status", len(h.Status.Conditions) > 0, h.Status)
		}},
		{"hpa orphan keeps its patched metrics", func() error {
			h, err := c.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "orphan", get)
			if err != nil {
				return err
			}
			return expect("status", len(h.Status.Conditions) > 0 && len(h.Status.CurrentMetrics) == 3, h.Status)
		}},
		{"quota computed", func() error {
			q, err := c.CoreV1().ResourceQuotas("parity-other").Get(ctx, "quota", get)
			if err != nil {
				return err
			}
			return expect("status", len(q.Status.Used) > 0, q.Status)
		}},
		{"csr parity-approved issued", func() error {
			r, err := c.CertificatesV1().CertificateSigningRequests().Get(ctx, "parity-approved", get)
			if err != nil {
				return err
			}
			return expect("status", len(r.Status.Certificate) > 0, r.Status.Conditions)
		}},
	}
}
