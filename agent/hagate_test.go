package agent

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/series"
)

// leadTerm runs an Elector on a fake clientset holding lease (if not nil)
// and returns its first term.
func leadTerm(t *testing.T, lease *coordinationv1.Lease) *ha.Term {
	t.Helper()
	client := fake.NewClientset()
	if lease != nil {
		if _, err := client.CoordinationV1().Leases("ns").Create(context.Background(), lease, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	terms := make(chan *ha.Term, 1)
	e, err := ha.New(client, ha.Config{LeaseName: "l", LeaseNamespace: "ns", Identity: "me",
		LeaseDuration: 3 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
		OnStartedLeading: func(term *ha.Term) { terms <- term }, Registerer: prometheus.NewRegistry()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case term := <-terms:
		return term
	case <-time.After(10 * time.Second):
		t.Fatal("no term within 10s")
		return nil
	}
}

func TestLeaderGateAdmit(t *testing.T) {
	g := newLeaderGate(nil, prometheus.NewRegistry())
	batch := func(ts ...int64) []series.Sample {
		out := make([]series.Sample, len(ts))
		for i, x := range ts {
			out[i] = series.Sample{T: x}
		}
		return out
	}
	stamps := func(ss []series.Sample) (ts []int64) {
		for _, s := range ss {
			ts = append(ts, s.T)
		}
		return ts
	}
	if got := g.admit(batch(1, 2)); len(got) != 0 {
		t.Errorf("standby admitted %v", stamps(got))
	}

	// A new term (the Lease named no one): only samples from its start.
	term := leadTerm(t, nil)
	if term.Continues() {
		t.Fatal("first term of a new Lease continues")
	}
	g.term.Store(term)
	start := term.Start().UnixMilli()
	in := batch(start-5, start, start-1, start+7)
	if got := stamps(g.admit(in)); len(got) != 2 || got[0] != start || got[1] != start+7 {
		t.Errorf("admit(%v) = %v, want the samples from %d", stamps(in), got, start)
	}
	if got := g.admit(batch(start - 1)); len(got) != 0 {
		t.Errorf("admitted a sample from before the term: %v", stamps(got))
	}

	// A term that continues this replica's own (the Lease still named it):
	// its backlog goes out too.
	holder, dur := "me", int32(3)
	old := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	term = leadTerm(t, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "ns"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, AcquireTime: &old, RenewTime: &old}})
	if !term.Continues() {
		t.Fatal("term of a Lease naming this replica does not continue")
	}
	g.term.Store(term)
	if got := g.admit(batch(1, 2)); len(got) != 2 {
		t.Errorf("continuing term admitted %v", stamps(got))
	}
}
