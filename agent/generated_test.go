package agent

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// The list/watch hands the reflector series, not objects: list items and
// watch events are *generated, bookmarks keep their annotations, errors pass,
// and an object the generator refuses is marked invalid.
func TestGenerateListWatch(t *testing.T) {
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	gen := rs[0].NewGenerator(collectors.Options{})
	pod := func(name string) *v1.Pod {
		return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("u-" + name), ResourceVersion: "7"},
			Status: v1.PodStatus{Phase: v1.PodRunning}}
	}
	fw := watch.NewFake()
	lw := generateListWatch(&cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			noUID := pod("b")
			noUID.UID = ""
			return &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "9", Continue: "next"},
				Items: []v1.Pod{*pod("a"), *noUID}}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return fw, nil },
	}, gen, nil)

	obj, err := lw.ListWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := obj.(*generatedList)
	if !ok || l.ResourceVersion != "9" || l.Continue != "next" || len(l.Items) != 2 {
		t.Fatalf("list = %#v, want a generatedList at 9, continue next, 2 items", obj)
	}
	a := l.Items[0].(*generated)
	if !a.valid || a.UID != "u-a" || a.Name != "a" || a.Namespace != "ns" || a.ResourceVersion != "7" || len(a.obj.Series) == 0 {
		t.Errorf("item a = %+v", a)
	}
	if b := l.Items[1].(*generated); b.valid {
		t.Errorf("an object without UID is valid: %+v", b)
	}

	w, err := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	go func() {
		fw.Modify(pod("a"))
		fw.Delete(pod("a"))
		fw.Action(watch.Bookmark, &v1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "12",
			Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}})
		fw.Error(&metav1.Status{Message: "too old"})
	}()
	ev := <-w.ResultChan()
	if g, ok := ev.Object.(*generated); ev.Type != watch.Modified || !ok || !g.valid || len(g.obj.Series) == 0 {
		t.Errorf("modified event: %s %#v", ev.Type, ev.Object)
	}
	ev = <-w.ResultChan()
	if g, ok := ev.Object.(*generated); ev.Type != watch.Deleted || !ok || !g.valid || g.UID != "u-a" || g.obj.Series != nil {
		t.Errorf("deleted event: %s %#v", ev.Type, ev.Object)
	}
	ev = <-w.ResultChan()
	if g, ok := ev.Object.(*generated); ev.Type != watch.Bookmark || !ok || g.ResourceVersion != "12" ||
		g.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Errorf("bookmark: %s %#v", ev.Type, ev.Object)
	}
	ev = <-w.ResultChan()
	if _, ok := ev.Object.(*metav1.Status); ev.Type != watch.Error || !ok {
		t.Errorf("error event: %s %#v", ev.Type, ev.Object)
	}
}

// Until the initial list is applied, objects go to the snapshot as they are
// decoded; the list's Replace then keeps them and ends those that are not in
// it. After that, objects come with their series through the store.
func TestInitialListAppliedAsDecoded(t *testing.T) {
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	gen := rs[0].NewGenerator(collectors.Options{})
	rec := &lockedRecorder{}
	m := newMetrics(nil, nil)
	snap := snapshot.New(rec, nil)
	store := newReflectorStore(snap, rs[0], m, nil)
	pod := func(name, rv string, phase v1.PodPhase) *v1.Pod {
		return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("u-" + name), ResourceVersion: rv},
			Status: v1.PodStatus{Phase: phase}}
	}
	lw := generateListWatch(&cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "9"},
				Items: []v1.Pod{*pod("a", "1", v1.PodRunning), *pod("b", "2", v1.PodRunning)}}, nil
		},
	}, gen, store)
	phase := func(name, p string) string {
		return `kube_pod_status_phase{namespace="ns",phase="` + p + `",pod="` + name + `",uid="u-` + name + `"}`
	}

	obj, err := lw.ListWithContext(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	items := obj.(*generatedList).Items
	for _, it := range items {
		if g := it.(*generated); !g.applied || g.obj.Series != nil {
			t.Errorf("%s: applied %v, series kept %d", g.Name, g.applied, len(g.obj.Series))
		}
	}
	got := rec.last("kube_pod_status_phase")
	if got[phase("a", "Running")] != 1 || got[phase("b", "Running")] != 1 {
		t.Fatalf("initial objects not in the snapshot as decoded: %v", got)
	}
	if snap.Synced() {
		t.Fatal("synced before the list's Replace")
	}

	// b was deleted before the list completed: the list holds only a.
	if err := store.Replace([]any{items[0]}, "9"); err != nil {
		t.Fatal(err)
	}
	got = rec.last("kube_pod_status_phase")
	if !snap.Synced() || got[phase("a", "Running")] != 1 || !series.IsStaleNaN(got[phase("b", "Running")]) {
		t.Errorf("after Replace: synced %v, series %v", snap.Synced(), got)
	}

	// Synced: a change is generated, not applied, and the store applies it.
	g := generate(gen, pod("a", "10", v1.PodFailed), true)
	if store.applyInitial(g.obj) {
		t.Fatal("applied as initial after the sync")
	}
	if err := store.Update(g); err != nil {
		t.Fatal(err)
	}
	if got := rec.last("kube_pod_status_phase"); got[phase("a", "Failed")] != 1 || got[phase("a", "Running")] != 0 {
		t.Errorf("after the update: %v", got)
	}
}
