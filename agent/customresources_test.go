package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kube-state-push/kube-state-push/customresource"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// staleCounter is an Appender, safe for concurrent use, that counts the
// staleness markers it is given.
type staleCounter struct {
	mu    sync.Mutex
	stale int
}

func (s *staleCounter) Append(ss []series.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range ss {
		if series.IsStaleNaN(x.V) {
			s.stale++
		}
	}
}

func (s *staleCounter) markers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stale
}

const widgetCRS = `kind: CustomResourceStateMetrics
spec:
  resources:
  - groupVersionKind: {group: example.com, version: "*", kind: Widget}
    labelsFromPath:
      name: [metadata, name]
    metrics:
    - name: replicas
      each:
        type: Gauge
        gauge:
          path: [spec, replicas]
`

func widgetCRD(v2Served bool) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com", "uid": "crd-uid"},
		"spec": map[string]any{
			"group": "example.com", "scope": "Namespaced",
			"names": map[string]any{"kind": "Widget", "plural": "widgets"},
			"versions": []any{
				map[string]any{"name": "v1", "served": true, "storage": true},
				map[string]any{"name": "v2", "served": v2Served},
			},
		},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Established", "status": "True"}}},
	}}
}

func widget(version, name, uid string, replicas any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/" + version, "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": "default", "uid": uid, "resourceVersion": "1"},
		"spec":     map[string]any{"replicas": replicas},
	}}
}

// Discovery binds the wildcard to the served versions only, the objects
// become series, a field error is counted, a version that becomes served is
// bound, and a deleted CRD ends every series of its objects.
func TestCustomResourcesDiscovery(t *testing.T) {
	crs, err := customresource.Load("crs.yaml", []byte(widgetCRS))
	if err != nil {
		t.Fatal(err)
	}
	v1 := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	v2 := schema.GroupVersionResource{Group: "example.com", Version: "v2", Resource: "widgets"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		crdGVR: "CustomResourceDefinitionList", v1: "WidgetList", v2: "WidgetList",
	}, widgetCRD(false), widget("v1", "a", "uid-a", int64(2)), widget("v1", "b", "uid-b", "many"), widget("v2", "c", "uid-c", int64(5)))

	out := &staleCounter{}
	snap := snapshot.New(out, nil)
	m := newMetrics(nil, nil)
	cfg := Config{customResources: crs}
	var logs bytes.Buffer
	c, err := newCustomResources(&cfg, dyn, snap, m, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.run(ctx, assignment{shard: 0, total: 1}) }()
	defer func() { cancel(); <-done }()

	waitUntil(t, "v1 listed", func() error {
		if !snap.Synced() {
			return fmt.Errorf("not synced")
		}
		return exposes(snap, `kube_customresource_replicas{customresource_group="example.com",customresource_kind="Widget",customresource_version="v1",name="a"} 2`)
	})
	if err := exposes(snap, `customresource_version="v2"`); err == nil {
		t.Error("v2 is bound while not served")
	}
	if n := testutil.ToFloat64(c.errs.counter.WithLabelValues("example.com/v1/widgets", "kube_customresource_replicas")); n != 1 {
		t.Errorf("errors counted: %v, want 1 (widget b's replicas)", n)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "many") {
		t.Errorf("the field error (errorLogV 0) is not logged at warn:\n%s", logs.String())
	}

	// v2 becomes served: bound too (the fake lists v2's objects only).
	if _, err := dyn.Resource(crdGVR).Update(ctx, widgetCRD(true), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "v2 bound", func() error {
		return exposes(snap, `kube_customresource_replicas{customresource_group="example.com",customresource_kind="Widget",customresource_version="v2",name="c"} 5`)
	})

	// The CRD deleted: every series ends.
	if err := dyn.Resource(crdGVR).Delete(ctx, "widgets.example.com", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "series ended", func() error {
		n := 0
		snap.Each(func(string, series.Labels) { n++ })
		if n > 0 {
			return fmt.Errorf("%d series left", n)
		}
		return nil
	})
	if got := out.markers(); got != 2 {
		t.Errorf("%d staleness markers, want 2 (a in v1, c in v2)", got)
	}
	if err := exposes(snap, "kube_customresource_replicas"); err == nil {
		t.Error("the families of a deleted CRD are still exposed")
	}
}

// exposes is nil when the snapshot's /metrics has a line containing want.
func exposes(snap *snapshot.Snapshot, want string) error {
	var b strings.Builder
	if err := snap.WriteExposition(&b, false, nil); err != nil {
		return err
	}
	if !strings.Contains(b.String(), want) {
		return fmt.Errorf("no %s in:\n%s", want, b.String())
	}
	return nil
}

func waitUntil(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Errors of errorLogV > 0 are logged at debug; one line per resource and
// metric per fieldErrorLogEvery, every error counted.
func TestFieldErrorsRateLimited(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := newFieldErrors(reg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	now := time.Unix(1000, 0)
	e.now = func() time.Time { return now }
	report := e.report("example.com/v1/widgets")
	for range 5 {
		report("example.com/v1/Widget", "w_replicas", &customresource.FieldError{V: 0, Err: fmt.Errorf("bad")})
		report("example.com/v1/Widget", "w_quiet", &customresource.FieldError{V: 4, Err: fmt.Errorf("expected")})
	}
	now = now.Add(fieldErrorLogEvery)
	report("example.com/v1/Widget", "w_replicas", &customresource.FieldError{Err: fmt.Errorf("bad")})
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[1], "level=DEBUG") ||
		!strings.Contains(lines[2], "suppressed_since_last=4") {
		t.Errorf("log:\n%s", logs.String())
	}
	if n := testutil.ToFloat64(e.counter.WithLabelValues("example.com/v1/widgets", "w_replicas")); n != 6 {
		t.Errorf("counted %v, want 6", n)
	}
}

// A panic in the generator is reported and the object dropped.
func TestSafeGeneratorRecovers(t *testing.T) {
	var got any
	g := safeGenerator{onPanic: func(p any) { got = p }} // a nil Generator panics
	if _, ok := g.Generate(widget("v1", "a", "u", 1)); ok || got == nil {
		t.Errorf("ok %v, panic %v", ok, got)
	}
}

// A warning's position moves into the --config file like an error's.
func TestShiftWarning(t *testing.T) {
	s := &crsSource{file: "cfg.yaml", line: 3, indent: 2}
	if got := s.shiftWarning("cfg.yaml", "cfg.yaml:2:5: spec.x: unknown key"); got != "cfg.yaml:4:7: spec.x: unknown key" {
		t.Errorf("got %q", got)
	}
	var none *crsSource
	if got := none.shiftWarning("f", "f:2:5: w"); got != "f:2:5: w" {
		t.Errorf("got %q", got)
	}
}

// Sharding applies to custom objects: a shard keeps those whose UID hashes to it.
func TestCustomResourcesSharded(t *testing.T) {
	crs, err := customresource.Load("crs.yaml", []byte(widgetCRS))
	if err != nil {
		t.Fatal(err)
	}
	v1 := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	objs := []runtime.Object{widgetCRD(false)}
	want := map[string]bool{}
	for i := range 12 {
		uid := fmt.Sprintf("uid-%d", i)
		objs = append(objs, widget("v1", fmt.Sprintf("w%d", i), uid, int64(i)))
		if shardOf(uid, 2) == 1 {
			want[uid] = true
		}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		crdGVR: "CustomResourceDefinitionList", v1: "WidgetList",
	}, objs...)
	snap := snapshot.New(&staleCounter{}, nil)
	cfg := Config{customResources: crs}
	c, err := newCustomResources(&cfg, dyn, snap, newMetrics(nil, nil), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.run(ctx, assignment{shard: 1, total: 2}) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "listed", func() error {
		if !snap.Synced() {
			return fmt.Errorf("not synced")
		}
		return nil
	})
	got := map[string]bool{}
	snap.Each(func(uid string, _ series.Labels) { got[uid] = true })
	if len(want) == 0 || len(want) == 12 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shard 1 of 2 holds %v, want %v", got, want)
	}
}

// A resource's labelSelector goes to its list (the fake client filters
// lists by labels) and its fieldSelector joins the namespace denylist's.
func TestCustomResourcesSelectors(t *testing.T) {
	crs, err := customresource.Load("crs.yaml", []byte(widgetCRS+"    labelSelector: team=a\n    fieldSelector: metadata.name!=skip\n"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	labelled := func(name, team string) runtime.Object {
		w := widget("v1", name, "uid-"+name, int64(1))
		w.SetLabels(map[string]string{"team": team})
		return w
	}
	var fields []string
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		crdGVR: "CustomResourceDefinitionList", v1: "WidgetList",
	}, widgetCRD(false), labelled("in", "a"), labelled("out", "b"))
	dyn.PrependReactor("list", "widgets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		fields = append(fields, a.(k8stesting.ListAction).GetListRestrictions().Fields.String())
		return false, nil, nil
	})
	snap := snapshot.New(&staleCounter{}, nil)
	cfg := Config{customResources: crs, NamespacesDenylist: []string{"kube-system"}}
	c, err := newCustomResources(&cfg, dyn, snap, newMetrics(nil, nil), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.run(ctx, assignment{shard: 0, total: 1}) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "listed", func() error {
		if !snap.Synced() {
			return fmt.Errorf("not synced")
		}
		return exposes(snap, `name="in"`)
	})
	if err := exposes(snap, `name="out"`); err == nil {
		t.Error("an object outside the labelSelector has series")
	}
	if len(fields) == 0 || fields[0] != "metadata.name!=skip,metadata.namespace!=kube-system" {
		t.Errorf("field selectors listed with: %q", fields)
	}
}
