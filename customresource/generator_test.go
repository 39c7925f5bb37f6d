package customresource

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// Wildcards stay data: the resource says it has them, matches concrete GVKs
// and is bound to each with the CRD's plural; the bound copies' series carry
// their GVK (the docs' "Wildcard matching of version and kind fields").
func TestWildcardBind(t *testing.T) {
	cfg := mustLoad(t, `kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: "myteam.io"
        version: "*"
        kind: "*"
      metrics:
        - name: "myobject_info"
          help: "Foo Bar Baz"
          each:
            type: Info
            info:
              path: [metadata]
              labelsFromPath:
                object: [name]
                namespace: [namespace]
`)
	r := cfg.Resources[0]
	if !r.HasWildcard() {
		t.Fatal("no wildcard")
	}
	for _, c := range []struct {
		gvk  GroupVersionKind
		want bool
	}{
		{GroupVersionKind{"myteam.io", "v1", "Foo"}, true},
		{GroupVersionKind{"other.io", "v1", "Foo"}, false},
		{GroupVersionKind{"myteam.io", "*", "Foo"}, false}, // not concrete
	} {
		if _, ok := r.Bind(c.gvk, "foos"); ok != c.want {
			t.Errorf("Bind(%v) = %v", c.gvk, ok)
		}
	}
	objs := map[string]string{
		"Foo": `{"metadata": {"name": "foo", "namespace": "ns"}}`,
		"Bar": `{"metadata": {"name": "bar", "namespace": "ns"}}`,
	}
	var got []string
	for _, kind := range []string{"Foo", "Bar"} {
		b, ok := r.Bind(GroupVersionKind{"myteam.io", "v1", kind}, strings.ToLower(kind)+"s")
		if !ok || b.HasWildcard() || b.Plural() != strings.ToLower(kind)+"s" {
			t.Fatalf("bound %+v", b)
		}
		g, err := NewGenerator(b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, lines(t, g, object(t, objs[kind]))...)
	}
	equalLines(t, got,
		`kube_customresource_myobject_info{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",namespace="ns",object="foo"} 1`,
		`kube_customresource_myobject_info{customresource_group="myteam.io",customresource_kind="Bar",customresource_version="v1",namespace="ns",object="bar"} 1`,
	)
	// Version and kind left empty are wildcards too, as KSM's discovery reads them;
	// a concrete resource matches only itself.
	if !(Resource{GroupVersionKind: GroupVersionKind{Group: "g"}}).HasWildcard() {
		t.Error("empty version and kind are not wildcards")
	}
	concrete := Resource{GroupVersionKind: GroupVersionKind{"g", "v1", "K"}}
	if concrete.HasWildcard() || !concrete.Matches(GroupVersionKind{"g", "v1", "K"}) || concrete.Matches(GroupVersionKind{"g", "v2", "K"}) {
		t.Error("concrete resource")
	}
	if (Resource{GroupVersionKind: GroupVersionKind{"*", "*", "*"}}).Matches(GroupVersionKind{"g", "v1", "K"}) {
		t.Error("group wildcard matches")
	}
}

// nilIsZero: a missing value is 0 instead of no series (and, at the top
// level, instead of an error); in a list each missing element value is 0.
func TestNilIsZero(t *testing.T) {
	obj := object(t, `{"status": {"list": [{"name": "a", "v": 2}, {"name": "b"}], "map": {"x": {"v": 1}, "y": {}}}}`)
	runEachCases(t, obj, []eachCase{
		{name: "missing without", each: `
            type: Gauge
            gauge: {path: [status, missing]}`, errs: []string{"[status,missing]: got nil while resolving path"}},
		{name: "missing with", each: `
            type: Gauge
            gauge: {path: [status, missing], nilIsZero: true}`, want: []string{`m{G} 0`}},
		{name: "list without", each: `
            type: Gauge
            gauge: {path: [status, list], valueFrom: [v], labelsFromPath: {name: [name]}}`,
			want: []string{`m{G,name="a"} 2`}},
		{name: "list with", each: `
            type: Gauge
            gauge: {path: [status, list], valueFrom: [v], labelsFromPath: {name: [name]}, nilIsZero: true}`,
			want: []string{`m{G,name="a"} 2`, `m{G,name="b"} 0`}},
		{name: "map with", each: `
            type: Gauge
            gauge: {path: [status, map], valueFrom: [v], labelFromKey: k, nilIsZero: true}`,
			want: []string{`m{G,k="x"} 1`, `m{G,k="y"} 0`}},
	})
}

// A gauge on a map: one series per element, labelFromKey its key; with a
// one-part valueFrom, the element under that key is a value itself; an
// element's own error is dropped (KSM's map branch does not report it), the
// shortcut's is reported; labelsFromPath read in the element, then in the
// map (which wins).
func TestGaugeMap(t *testing.T) {
	obj := object(t, `{"status": {"uptime": 7, "phase": "x", "sub": {"a": {"v": "bad", "n": "A"}, "b": {"v": 2, "n": "B"}}, "kv": {"v": "nope", "w": 1}}}`)
	runEachCases(t, obj, []eachCase{
		{name: "shortcut", each: `
            type: Gauge
            gauge: {path: [status], valueFrom: [uptime], labelFromKey: key}`,
			want: []string{`m{G,key="uptime"} 7`}},
		{name: "element error dropped", each: `
            type: Gauge
            gauge: {path: [status, sub], valueFrom: [v], labelFromKey: key, labelsFromPath: {n: [n]}}`,
			want: []string{`m{G,key="b",n="B"} 2`}},
		{name: "shortcut error reported", each: `
            type: Gauge
            gauge: {path: [status, kv], valueFrom: [v]}`,
			errs: []string{`[status,kv]: [v]: strconv.ParseFloat: parsing "nope": invalid syntax`}},
		{name: "labels read in the map too", each: `
            type: Gauge
            gauge: {path: [status, sub], valueFrom: [v], labelsFromPath: {n: [a, n]}}`,
			want: []string{`m{G,n="A"} 2`}},
		{name: "scalars", each: `
            type: Gauge
            gauge: {path: [status, kv, w], labelFromKey: key}`,
			want: []string{`m{G} 1`}},
	})
}

// Per-object errors never stop generation: the other series are produced and
// each error is reported once, with the family's errorLogV.
func TestObjectErrorsCounted(t *testing.T) {
	cfg := mustLoad(t, fooResource+`      errorLogV: 3
      metrics:
        - name: replicas
          errorLogV: 7
          each:
            type: Gauge
            gauge: {path: [spec, replicas]}
        - name: phase
          each:
            type: StateSet
            stateSet: {path: [status, phase], labelName: phase, list: [A]}
        - name: conds
          each:
            type: Gauge
            gauge: {path: [status, conditions], valueFrom: [value], labelsFromPath: {name: [name]}}
        - name: uptime
          each:
            type: Gauge
            gauge: {path: [status, uptime]}
`)
	type report struct {
		resource, metric, msg string
		v                     int32
	}
	var got []report
	g, err := NewGenerator(cfg.Resources[0], Options{OnError: func(resource, metric string, err error) {
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("not a FieldError: %v", err)
		}
		got = append(got, report{resource, metric, err.Error(), fe.V})
	}})
	if err != nil {
		t.Fatal(err)
	}
	obj := object(t, `{"spec": {"replicas": "many"}, "status": {"phase": 5, "uptime": "5Gix",
	  "conditions": [{"name": "a", "value": 1}, {"name": "b", "value": {"x": 1}}, {"name": "c", "value": "2"}]}}`)
	equalLines(t, lines(t, g, obj),
		`kube_customresource_conds{`+gvkLabels+`,name="a"} 1`,
		`kube_customresource_conds{`+gvkLabels+`,name="c"} 2`,
	)
	want := []report{
		{"myteam.io/v1/Foo", "kube_customresource_replicas", `[spec,replicas]: []: strconv.ParseFloat: parsing "many": invalid syntax`, 7},
		{"myteam.io/v1/Foo", "kube_customresource_phase", `[status,phase]: expected value for path to be string, got float64`, 3},
		{"myteam.io/v1/Foo", "kube_customresource_conds", `[status,conditions]: [1]: [value]: expected number but was map[x:1]`, 3},
		{"myteam.io/v1/Foo", "kube_customresource_uptime", `[status,uptime]: []: strconv.ParseFloat: parsing "5Gix": invalid syntax`, 3},
	}
	if len(got) != len(want) {
		t.Fatalf("reports %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// commonLabels and labelsFromPath merge at three levels: the metric's
// override the resource's (the GVK labels are the resource's, so a metric
// may override them; a resource's may not), the each-level labels override both.
func TestLabelLevels(t *testing.T) {
	g, _ := generator(t, fooResource+`      commonLabels: {a: resource, b: resource, customresource_kind: ignored}
      labelsFromPath: {name: [metadata, name], c: [spec, version]}
      metrics:
        - name: m
          commonLabels: {b: metric, customresource_group: mine}
          labelsFromPath: {c: [spec, replicas]}
          each:
            type: Gauge
            gauge:
              path: [status, active]
              labelFromKey: name
              labelsFromPath: {a: [nope]}
`)
	equalLines(t, lines(t, g, object(t, fooJSON)),
		`kube_customresource_m{a="resource",b="metric",c="1",customresource_group="mine",customresource_kind="Foo",customresource_version="v1",name="type-a"} 1`,
		`kube_customresource_m{a="resource",b="metric",c="1",customresource_group="mine",customresource_kind="Foo",customresource_version="v1",name="type-b"} 3`,
	)
}

// Label names from labelsFromPath and "*" copies are sanitised; values are
// %v; an empty value is written as KSM writes it (k=""), though the series
// (as Prometheus stores it) has no such label.
func TestLabelRendering(t *testing.T) {
	g, _ := generator(t, fooResource+`      metrics:
        - name: m
          each:
            type: Info
            info:
              labelsFromPath:
                "x.y-z": [spec, replicas]
                flag: [spec, flag]
                empty: [spec, empty]
                obj: [spec, obj]
                "ann_*": [metadata, annotations]
`)
	obj := object(t, `{"metadata": {"annotations": {"a.b/c": "1", "d": 2.5, "n": null}}, "spec": {"replicas": 3, "flag": true, "empty": "", "obj": {"k": [1, "x"]}}}`)
	equalLines(t, lines(t, g, obj),
		`kube_customresource_m{ann_a_b_c="1",ann_d="2.5",ann_n="<nil>",`+gvkLabels+`,empty="",flag="true",obj="map[k:[1 x]]",x_y_z="3"} 1`)
	o, _ := g.Generate(obj)
	if got := o.Series[0].Labels.Get("empty"); got != "" || strings.Contains(o.Series[0].Labels.String(), "empty") {
		t.Errorf("empty label kept: %s", o.Series[0].Labels)
	}
}

// Info on a map: the map's own labels (if any) and one series per element
// with labels; labelFromKey clashing with labelsFromPath is reported.
func TestInfoMap(t *testing.T) {
	obj := object(t, `{"status": {"sub": {"a": {"n": "A"}, "b": {}, "k": "own"}}}`)
	runEachCases(t, obj, []eachCase{
		{name: "elements", each: `
            type: Info
            info: {path: [status, sub], labelFromKey: key, labelsFromPath: {n: [n]}}`,
			want: []string{`m{G,key="a",n="A"} 1`, `m{G,key="b"} 1`, `m{G,key="k"} 1`}},
		{name: "conflict", each: `
            type: Info
            info: {path: [status, sub], labelFromKey: k, labelsFromPath: {k: [k]}}`,
			want: []string{`m{G,k="a"} 1`, `m{G,k="b"} 1`, `m{G,k="k"} 1`, `m{G,k="own"} 1`},
			errs: []string{"[status,sub]: labelFromKey (k) generated labels conflict with labelsFromPath, consider renaming it"}},
		{name: "scalar without labels", each: `
            type: Info
            info: {path: [status, sub, k]}`},
	})
}

// StateSet on a list: the states of each element; a labelsFromPath overrides
// labelName; an element whose value is not a string is reported and skipped.
func TestStateSetList(t *testing.T) {
	obj := object(t, `{"status": {"items": [{"n": "a", "s": "On"}, {"n": "b", "s": 1}, {"n": "c"}, {"n": "d", "s": "Off"}]}}`)
	runEachCases(t, obj, []eachCase{
		{name: "list", each: `
            type: StateSet
            stateSet: {path: [status, items], valueFrom: [s], labelName: state, list: ["On", "Off"], labelsFromPath: {item: [n]}}`,
			want: []string{
				`m{G,item="a",state="Off"} 0`, `m{G,item="a",state="On"} 1`,
				`m{G,item="d",state="Off"} 1`, `m{G,item="d",state="On"} 0`,
			},
			errs: []string{"[status,items,s]: expected value for path to be string, got float64"}},
		{name: "labelsFromPath overrides labelName", each: `
            type: StateSet
            stateSet: {path: [status, items, "0"], valueFrom: [s], labelName: n, list: ["On"], labelsFromPath: {n: [n]}}`,
			want: []string{`m{G,n="a"} 1`}},
	})
}

// Generate takes *unstructured.Unstructured (the dynamic client's int64
// numbers included) or its map, keeps UID and resourceVersion, and refuses
// anything else.
func TestGenerateInputs(t *testing.T) {
	g, _ := generator(t, fooResource+`      metrics:
        - name: replicas
          each:
            type: Gauge
            gauge: {path: [spec, replicas]}
`)
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"uid": "u-1", "resourceVersion": "42"},
		"spec":     map[string]any{"replicas": int64(3)},
	}}
	o, ok := g.Generate(u)
	if !ok || o.UID != "u-1" || o.ResourceVersion != "42" || len(o.Series) != 1 || o.Series[0].Value != 3 {
		t.Errorf("unstructured: %v %+v", ok, o)
	}
	if _, ok := g.Generate(u.Object); !ok {
		t.Error("map refused")
	}
	for _, bad := range []any{nil, "x", (*unstructured.Unstructured)(nil), unstructured.Unstructured{}} {
		if _, ok := g.Generate(bad); ok {
			t.Errorf("Generate(%T) ok", bad)
		}
	}
	if o, ok := g.Generate(&unstructured.Unstructured{}); !ok || len(o.Series) != 0 {
		t.Errorf("empty unstructured: %v %+v", ok, o)
	}
	if g.BaseLabels() != nil {
		t.Error("base labels")
	}
}

// Options.Family filters families by their description; series of one
// label set are kept once (KSM would write the line twice).
func TestFamilyFilterAndDuplicates(t *testing.T) {
	cfg := mustLoad(t, fooResource+`      metrics:
        - name: a
          each: {type: Gauge, gauge: {path: [spec, replicas]}}
        - name: a
          each: {type: Gauge, gauge: {path: [status, uptime]}}
        - name: b
          each: {type: Gauge, gauge: {path: [status, uptime]}}
`)
	g, err := NewGenerator(cfg.Resources[0], Options{Family: func(f collectors.FamilyInfo) bool { return f.Name != "kube_customresource_b" }})
	if err != nil {
		t.Fatal(err)
	}
	if fs := g.Families(); len(fs) != 1 || fs[0].Name != "kube_customresource_a" {
		t.Errorf("families %+v", fs)
	}
	equalLines(t, lines(t, g, object(t, fooJSON)), `kube_customresource_a{`+gvkLabels+`} 1`)
}

// A resource built by hand that does not compile is refused, naming the metric.
func TestNewGeneratorErrors(t *testing.T) {
	for _, c := range []struct {
		each Each
		want string
	}{
		{Each{Type: "Gauge"}, "metrics[0] x: unknown metric type Gauge"},
		{Each{Type: collectors.Gauge}, "metrics[0] x: expected each.gauge to not be nil"},
		{Each{Type: collectors.Info}, "metrics[0] x: expected each.info to not be nil"},
		{Each{Type: collectors.StateSet}, "metrics[0] x: expected each.stateSet to not be nil"},
		{Each{Type: collectors.Gauge, Gauge: &Gauge{Path: []string{"[a]"}}}, "metrics[0] x: each.gauge: path: invalid list lookup: [a]"},
		{Each{Type: collectors.Info, Info: &Info{LabelsFromPath: map[string][]string{"l": {"[a]"}}}}, "metrics[0] x: each.info: labelsFromPath: l: invalid list lookup: [a]"},
		{Each{Type: collectors.StateSet, StateSet: &StateSet{ValueFrom: []string{"[a]"}}}, "metrics[0] x: each.stateSet: valueFrom: invalid list lookup: [a]"},
	} {
		_, err := NewGenerator(Resource{Metrics: []Metric{{Name: "x", Each: c.each}}}, Options{})
		if err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %s", err, c.want)
		}
	}
}
