package agent

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// fakeAPI answers lists with its resourceVersion and records the options of
// every call.
type fakeAPI struct {
	rv      string
	lists   []metav1.ListOptions
	watches []metav1.ListOptions
}

func (f *fakeAPI) listWatch() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(_ context.Context, o metav1.ListOptions) (runtime.Object, error) {
			f.lists = append(f.lists, o)
			return &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: f.rv}}, nil
		},
		WatchFuncWithContext: func(_ context.Context, o metav1.ListOptions) (watch.Interface, error) {
			f.watches = append(f.watches, o)
			return watch.NewEmptyWatch(), nil
		},
	}
}

// A watch that would resume from a resourceVersion the apiserver has not
// reached (etcd restored from a backup) is refused as expired, and the list
// after it asks for the current state instead of the old resourceVersion.
func TestWatchResumeAfterResourceVersionsWentBack(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		api := &fakeAPI{rv: "500"}
		m := newMetrics(nil, nil)
		lw := wrapListWatch(api.listWatch(), m, slog.New(slog.DiscardHandler), "pods", "metadata.namespace!=kube-system", true)
		ctx := context.Background()

		// Normal resumes: at or below the apiserver's resourceVersion.
		for _, rv := range []string{"499", "500"} {
			if _, err := lw.WatchWithContext(ctx, metav1.ListOptions{ResourceVersion: rv}); err != nil {
				t.Fatalf("resume from %s: %v", rv, err)
			}
		}
		if len(api.watches) != 2 {
			t.Fatalf("%d watches reached the apiserver, want 2", len(api.watches))
		}
		check := api.lists[0]
		if check.Limit != 1 || check.ResourceVersion != "" || check.FieldSelector != "metadata.namespace!=kube-system" {
			t.Errorf("check list options %+v, want a one-item quorum list with the field selector", check)
		}

		// After a restore.
		_, err := lw.WatchWithContext(ctx, metav1.ListOptions{ResourceVersion: "2270"})
		if !apierrors.IsResourceExpired(err) {
			t.Fatalf("resume from 2270 at 500: %v, want an Expired error", err)
		}
		if len(api.watches) != 2 {
			t.Errorf("the watch from 2270 reached the apiserver")
		}
		if v := testutil.ToFloat64(m.rvResets.WithLabelValues("pods")); v != 1 {
			t.Errorf("resets counter %v, want 1", v)
		}
		if v := testutil.ToFloat64(m.watches.WithLabelValues("pods", "error")); v != 1 {
			t.Errorf("watch errors %v, want 1", v)
		}

		// The reflector lists again from its last resourceVersion; that list
		// asks for the current state, once.
		relist := metav1.ListOptions{ResourceVersion: "2270", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}
		var got, next metav1.ListOptions
		if streaming {
			yes := true
			relist.SendInitialEvents = &yes
			for range 2 {
				if _, err := lw.WatchWithContext(ctx, relist); err != nil {
					t.Fatal(err)
				}
			}
			got, next = api.watches[2], api.watches[3]
		} else {
			for range 2 {
				if _, err := lw.ListWithContext(ctx, relist); err != nil {
					t.Fatal(err)
				}
			}
			got, next = api.lists[len(api.lists)-2], api.lists[len(api.lists)-1]
		}
		if got.ResourceVersion != "" {
			t.Errorf("streaming %v: the list after the reset asked for resourceVersion %q, want the current state", streaming, got.ResourceVersion)
		}
		if next.ResourceVersion != "2270" {
			t.Errorf("streaming %v: the list after that asked for %q, want the reflector's own 2270", streaming, next.ResourceVersion)
		}
	}
}

// resourceVersions that are not numbers cannot be compared: the watch goes on.
func TestWatchResumeOpaqueResourceVersions(t *testing.T) {
	api := &fakeAPI{rv: "b7f3"}
	m := newMetrics(nil, nil)
	lw := wrapListWatch(api.listWatch(), m, slog.New(slog.DiscardHandler), "pods", "", true)
	if _, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{ResourceVersion: "a1"}); err != nil {
		t.Fatal(err)
	}
	if len(api.watches) != 1 || testutil.ToFloat64(m.rvResets.WithLabelValues("pods")) != 0 {
		t.Errorf("watches %d, resets %v; want the watch and no reset", len(api.watches), testutil.ToFloat64(m.rvResets.WithLabelValues("pods")))
	}
}
