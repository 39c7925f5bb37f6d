package customresource

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// exampleConfig is KSM's pkg/customresourcestate/example_config.yaml (its
// config_test.go loads it), licence header left out: line numbers below are
// of this text.
const exampleConfig = `kind: CustomResourceStateMetrics
spec:
  resources:
    -
      groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      labelsFromPath:
        name: [ metadata, name ]
      metrics:
        - name: "active_count"
          help: "Number Foo Bars active"
          each:
            type: Gauge
            gauge:
              path: [status, active]
              labelFromKey: type
              labelsFromPath:
                bar: [bar]
              value: [count]
          commonLabels:
            custom_metric: "yes"

          labelsFromPath:
            "*": [metadata, labels]  # copy all labels from CR labels
            foo: [metadata, labels, foo]  # copy a single label (overrides *)

        - name: "other_count"
          each:
            type: Gauge
            gauge:
              path: [status, other]
          errorLogV: 5

        - name: "info"
          each:
            type: Info
            info:
              path: [spec, version]
          errorLogV: 5

        - name: "phase"
          each:
            type: StateSet
            stateSet:
              path: [status, phase]
              labelName: phase
              list: [Active, Running, Terminating]
          errorLogV: 5
`

// KSM's Test_Metrics_deserialization: the example loads, metric 0 is
// active_count, metric 1's labels are the resource's, its errorLogV 5, the
// resource name foos. value: [count] is not a key KSM reads.
func TestLoadKSMExample(t *testing.T) {
	cfg := mustLoad(t, exampleConfig)
	r := cfg.Resources[0]
	if r.Metrics[0].Name != "active_count" || r.Plural() != "foos" {
		t.Errorf("metric %q plural %q", r.Metrics[0].Name, r.Plural())
	}
	if r.Metrics[0].Each.Type != collectors.Gauge || r.Metrics[2].Each.Type != collectors.Info || r.Metrics[3].Each.Type != collectors.StateSet {
		t.Errorf("types %v %v %v", r.Metrics[0].Each.Type, r.Metrics[2].Each.Type, r.Metrics[3].Each.Type)
	}
	g, err := NewGenerator(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := g.families[1]; len(f.labels) != 1 || f.labels[0].name != "name" || f.logV != 5 {
		t.Errorf("family 1: labels %+v logV %d", f.labels, f.logV)
	}
	if f := g.families[0]; f.logV != 0 || len(f.labels) != 3 || f.common["custom_metric"] != "yes" {
		t.Errorf("family 0: labels %+v common %v", f.labels, f.common)
	}
	want := []string{
		"crs.yaml:21:15: spec.resources[0].metrics[0].each.gauge.value: unknown key, ignored as KSM ignores it: KSM reads valueFrom; a constant value is the extension constant",
		`crs.yaml:36:11: spec.resources[0].metrics[2].name: info metric "info" does not end in _info (KSM logs this)`,
	}
	if strings.Join(cfg.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s", strings.Join(cfg.Warnings, "\n"))
	}
	var names []string
	for _, f := range g.Families() {
		names = append(names, f.Name+" "+string(f.Type))
	}
	if got := strings.Join(names, ","); got != "kube_customresource_active_count gauge,kube_customresource_other_count gauge,kube_customresource_info info,kube_customresource_phase stateset" {
		t.Errorf("families %s", got)
	}
}

// Config errors: one line, file:line:column of the offending key, its path,
// what is wrong. The KSM behaviour each mirrors is in its message or comment.
func TestLoadErrors(t *testing.T) {
	const head = "spec:\n  resources:\n  - groupVersionKind: {group: g, version: v, kind: K}\n    metrics:\n    - name: x\n"
	for _, c := range []struct{ name, text, want string }{
		{"unknown type", head + "      each:\n        type: Gauges\n",
			`crs.yaml:7:9: spec.resources[0].metrics[0].each.type: unknown type "Gauges" (want Gauge, StateSet or Info)`},
		{"no type", head + "      each:\n        gauge: {path: [a]}\n",
			`crs.yaml:6:7: spec.resources[0].metrics[0].each.type: missing (want Gauge, StateSet or Info)`},
		{"no each", head + "      help: h\n",
			`crs.yaml:5:7: spec.resources[0].metrics[0].each: missing (want a type Gauge, StateSet or Info)`},
		{"type without its block", head + "      each:\n        type: StateSet\n        gauge: {}\n",
			`crs.yaml:7:9: spec.resources[0].metrics[0].each.stateSet: missing: type StateSet needs each.stateSet`},
		{"null block", head + "      each:\n        type: info\n        info:\n",
			`crs.yaml:7:9: spec.resources[0].metrics[0].each.info: missing: type info needs each.info`},
		{"bad list lookup in path", head + "      each:\n        type: Gauge\n        gauge:\n          path: [status, \"[Ready]\"]\n",
			`crs.yaml:9:11: spec.resources[0].metrics[0].each.gauge.path: invalid list lookup: [Ready]`},
		{"bad list lookup in valueFrom", head + "      each:\n        type: StateSet\n        stateSet:\n          valueFrom: [\"[x]\"]\n",
			`crs.yaml:9:11: spec.resources[0].metrics[0].each.stateSet.valueFrom: invalid list lookup: [x]`},
		{"bad list lookup in labelsFromPath", head + "      each:\n        type: Info\n        info:\n          labelsFromPath:\n            cond: [\"[Ready]\"]\n",
			`crs.yaml:10:13: spec.resources[0].metrics[0].each.info.labelsFromPath.cond: invalid list lookup: [Ready]`},
		{"bad list lookup in a resource's labelsFromPath", "spec:\n  resources:\n  - labelsFromPath:\n      a: [\"[b]\"]\n",
			`crs.yaml:4:7: spec.resources[0].labelsFromPath.a: invalid list lookup: [b]`},
		{"errorLogV not a number", head + "      errorLogV: abc\n",
			"crs.yaml:6:7: spec.resources[0].metrics[0].errorLogV: cannot unmarshal !!str `abc` into int32"},
		{"nilIsZero not a bool", head + "      each:\n        type: gauge\n        gauge: {nilIsZero: maybe}\n",
			"crs.yaml:8:17: spec.resources[0].metrics[0].each.gauge.nilIsZero: cannot unmarshal !!str `maybe` into bool"},
		{"path not a list", head + "      each:\n        type: gauge\n        gauge: {path: status}\n",
			"crs.yaml:8:17: spec.resources[0].metrics[0].each.gauge.path: cannot unmarshal !!str `status` into []string"},
		{"commonLabels not a map", "spec:\n  resources:\n  - commonLabels: [a]\n",
			"crs.yaml:3:5: spec.resources[0].commonLabels: cannot unmarshal !!seq into map[string]string"},
		{"resources not a list", "spec:\n  resources: 5\n",
			"crs.yaml:2:14: spec.resources: cannot unmarshal !!int `5` into a list"},
		{"not a mapping", "- a\n", "crs.yaml:1:1: cannot unmarshal !!seq into a mapping"},
		{"repeated key", head + "      name: y\n",
			`crs.yaml:6:7: spec.resources[0].metrics[0].name: mapping key "name" already defined at line 5`},
		{"syntax", "spec: [\n", "crs.yaml:1: did not find expected node content"},
		{"empty", "", "crs.yaml: empty config: no YAML document"},
		{"comments only", "# nothing\n", "crs.yaml: empty config: no YAML document"},
		{"alias bomb", aliasBomb(), "crs.yaml:2:40: spec.resources[0].metrics[0]: more than 10000 aliases followed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("crs.yaml", []byte(c.text))
			if err == nil || err.Error() != c.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Error("error on more than one line")
			}
		})
	}
}

// What KSM accepts: case-insensitive types, yaml.v3's lenient scalars, a
// null document, merge keys; what it ignores is warned about.
func TestLoadAcceptsAndWarns(t *testing.T) {
	cfg := mustLoad(t, `kind: Something
apiVersion: v1
base: &base {group: myteam.io}
spec:
  resources:
  - groupVersionKind:
      <<: *base
      version: "*"
      kind: "*"
    namespace: old
    errorLogV: 5.0
    metricNamePrefix: ""
    commonLabels: {bad-name: x}
    metrics:
    - name: a
      each:
        type: GAUGE
        path: [x]
        gauge: {path: [x], nilIsZero: yes, labelFromKey: "a.b"}
    - name: b
      each: {type: stateset, stateSet: {list: [x]}}
  - groupVersionKind: {version: v1, kind: Foo}
---
second: document
`)
	r := cfg.Resources[0]
	if r.GroupVersionKind != (GroupVersionKind{"myteam.io", "*", "*"}) || r.ErrorLogV != 5 || r.Prefix() != "" {
		t.Errorf("resource %+v", r)
	}
	if g := r.Metrics[0].Each.Gauge; r.Metrics[0].Each.Type != collectors.Gauge || !g.NilIsZero || g.LabelFromKey != "a.b" {
		t.Errorf("gauge %+v", g)
	}
	want := []string{
		`crs.yaml:23:1: only the first YAML document is read, as KSM does`,
		`crs.yaml:1:1: kind: not CustomResourceStateMetrics; KSM does not check it`,
		`crs.yaml:2:1: apiVersion: unknown key, ignored as KSM ignores it`,
		`crs.yaml:3:1: base: unknown key, ignored as KSM ignores it`,
		`crs.yaml:10:5: spec.resources[0].namespace: unknown key, ignored as KSM ignores it: KSM v2.7 replaced it with metricNamePrefix`,
		`crs.yaml:13:20: spec.resources[0].commonLabels.bad-name: not a label name; KSM writes it unchanged`,
		`crs.yaml:18:9: spec.resources[0].metrics[0].each.path: unknown key, ignored as KSM ignores it: KSM v2.6 moved it into each.gauge`,
		`crs.yaml:19:44: spec.resources[0].metrics[0].each.gauge.labelFromKey: "a.b" is not a label name; KSM writes it unchanged`,
		`crs.yaml:21:40: spec.resources[0].metrics[1].each.stateSet.labelName: empty; KSM writes the states with an empty label name`,
		`crs.yaml:22:5: spec.resources[1].groupVersionKind.group: group is required; KSM skips the resource`,
	}
	if strings.Join(cfg.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
	names := mustLoad(t, "spec:\n  resources:\n  - metricNamePrefix: \"\"\n    metrics:\n    - name: \"\"\n      each: {type: info, info: {}}\n    - name: a-b\n      each: {type: gauge, gauge: {}}\n")
	want = []string{
		`crs.yaml:3:5: spec.resources[0].groupVersionKind.group: group is required; KSM skips the resource`,
		`crs.yaml:5:7: spec.resources[0].metrics[0].name: family name "" is not a metric name; KSM writes it unchanged`,
		`crs.yaml:5:7: spec.resources[0].metrics[0].name: info metric "" does not end in _info (KSM logs this)`,
		`crs.yaml:7:7: spec.resources[0].metrics[1].name: family name "a-b" is not a metric name; KSM writes it unchanged`,
	}
	if strings.Join(names.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("name warnings:\n%s", strings.Join(names.Warnings, "\n"))
	}
	block := mustLoad(t, "spec:\n  resources:\n  - groupVersionKind: {group: g}\n    metrics:\n    - name: a\n      each: {type: gauge, gauge: {commonLabels: {x: y}}}\n")
	if w := `crs.yaml:6:35: spec.resources[0].metrics[0].each.gauge.commonLabels: unknown key, ignored as KSM ignores it: KSM reads commonLabels on the metric and the resource`; len(block.Warnings) != 1 || block.Warnings[0] != w {
		t.Errorf("block warnings %q", block.Warnings)
	}
	// Merge keys as yaml.v3 decodes them: own keys win, then the first merged.
	merged := mustLoad(t, `x: &x {name: fromx, help: hx}
y: &y {name: fromy, help: hy, errorLogV: 2}
spec:
  resources:
  - metrics:
    - <<: [*x, *y]
      name: own_info
      each: {type: info, info: {}}
`)
	if m := merged.Resources[0].Metrics[0]; m.Name != "own_info" || m.Help != "hx" || m.ErrorLogV != 2 {
		t.Errorf("merged %+v", m)
	}
	if cfg := mustLoad(t, "kind: [x]\n"); len(cfg.Warnings) != 1 {
		t.Errorf("kind not a string: %q", cfg.Warnings)
	}
	if cfg := mustLoad(t, "~\n"); len(cfg.Resources) != 0 {
		t.Error("null document has resources")
	}
}

// The resource name: resourcePlural, else KSM's lowercased flect plural.
func TestPlural(t *testing.T) {
	for kind, want := range map[string]string{
		"Foo": "foos", "VerticalPodAutoscaler": "verticalpodautoscalers", "Policy": "policies",
		"Ingress": "ingresses", "Status": "statuses", "Person": "people", "Index": "indices",
	} {
		if got := (Resource{GroupVersionKind: GroupVersionKind{Kind: kind}}).Plural(); got != want {
			t.Errorf("Plural(%s) = %s, want %s", kind, got, want)
		}
	}
	if got := (Resource{GroupVersionKind: GroupVersionKind{Kind: "Foo"}, ResourcePlural: "fooz"}).Plural(); got != "fooz" {
		t.Errorf("resourcePlural: %s", got)
	}
}

// KSM's Test_fullName: the default prefix, an empty one, a custom one.
func TestFamilyName(t *testing.T) {
	empty, custom := "", "bar_baz"
	m := Metric{Name: "count"}
	for prefix, want := range map[*string]string{nil: "kube_customresource_count", &empty: "count", &custom: "bar_baz_count"} {
		if got := (Resource{MetricNamePrefix: prefix}).FamilyName(m); got != want {
			t.Errorf("FamilyName = %s, want %s", got, want)
		}
	}
}

// aliasBomb is a config whose metric, through nested merge keys, would
// have 10^9 keys.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 {name: x}\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("spec:\n  resources:\n  - metrics:\n    - {<<: *a9, each: {type: info, info: {}}}\n")
	return b.String()
}

// Errors and warnings stay on one line when the file's keys or values hold
// line breaks (found by FuzzLoad: "0\n\n00").
func TestLoadOneLine(t *testing.T) {
	_, err := Load("crs.yaml", []byte("0\n\n00"))
	if err == nil || err.Error() != "crs.yaml:1:1: cannot unmarshal !!str `0\\n00` into a mapping" {
		t.Errorf("error %q", err)
	}
	cfg := mustLoad(t, "\"a\\nb\": 1\n")
	if len(cfg.Warnings) != 1 || cfg.Warnings[0] != `crs.yaml:1:1: a\nb: unknown key, ignored as KSM ignores it` {
		t.Errorf("warnings %q", cfg.Warnings)
	}
}
