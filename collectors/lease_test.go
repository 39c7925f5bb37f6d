package collectors

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLeaseGolden(t *testing.T) {
	renewed := metav1.NewMicroTime(time.Unix(1501569018, 500000000))
	runGolden(t, "leases", []goldenCase{
		{name: "owned-held-renewed", obj: &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-master", Namespace: "kube-node-lease", UID: "l1",
				CreationTimestamp: metav1.Unix(1501569000, 0),
				OwnerReferences:   []metav1.OwnerReference{{Kind: "Node", Name: "kube-master", Controller: new(true)}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: new("kube-master"), RenewTime: &renewed},
		}},
		{name: "no-owner-no-holder-no-renew", obj: &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "kube-system", UID: "l2"},
		}},
		{name: "two-owners", obj: &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "default", UID: "l3",
				OwnerReferences: []metav1.OwnerReference{{Kind: "Pod", Name: "a"}, {Kind: "Pod", Name: "b"}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: new("a_1234")},
		}},
	})
}
