package customresource

import (
	"strings"
	"testing"
)

// gvkG is what "G" stands for in the expected lines of eachCase.
const gvkG = `customresource_group="g",customresource_kind="K",customresource_version="v"`

// eachLines generates family m (no prefix) of resource g/v/K with the given
// each block (YAML indented as under "each:") for obj, and returns its lines
// and the per-object errors reported.
func eachLines(t *testing.T, each string, obj map[string]any) ([]string, []string) {
	t.Helper()
	g, errs := generator(t, `kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: g, version: v, kind: K}
      metricNamePrefix: ""
      metrics:
        - name: m
          each:
`+each)
	return lines(t, g, obj), *errs
}

type eachCase struct {
	name, each string
	want       []string // "G" stands for the GVK labels
	errs       []string // per-object errors, without "g/v/K m: "
}

func runEachCases(t *testing.T, obj map[string]any, cases []eachCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, errs := eachLines(t, c.each, obj)
			want := make([]string, len(c.want))
			for i, w := range c.want {
				want[i] = strings.Replace(w, "G", gvkG, 1)
			}
			equalLines(t, got, want...)
			for i := range errs {
				errs[i] = strings.TrimPrefix(errs[i], "g/v/K m: ")
			}
			if strings.Join(errs, "\n") != strings.Join(c.errs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(c.errs, "\n"))
			}
		})
	}
}

// The cases of KSM's registry_factory_test.go Test_values on its cr object,
// expected values and errors as KSM's.
func TestKSMValues(t *testing.T) {
	runEachCases(t, object(t, crJSON), []eachCase{
		{name: "single", each: `
            type: Gauge
            gauge: {path: [spec, replicas]}`, want: []string{`m{G} 1`}},
		{name: "obj", each: `
            type: Gauge
            gauge: {path: [status, active], labelFromKey: type}`,
			want: []string{`m{G,type="type-a"} 1`, `m{G,type="type-b"} 3`}},
		{name: "deep obj", each: `
            type: Gauge
            gauge:
              path: [status, sub]
              labelsFromPath: {active: [active]}
              labelFromKey: type
              valueFrom: [ready]`,
			want: []string{`m{active="1",G,type="type-a"} 2`, `m{active="3",G,type="type-b"} 4`}},
		{name: "path-relative valueFrom value", each: `
            type: Gauge
            gauge:
              path: [metadata]
              labelsFromPath: {name: [name]}
              valueFrom: [creationTimestamp]`,
			want: []string{`m{G,name="foo"} 1.6563744e+09`}},
		{name: "non-existent path", each: `
            type: Gauge
            gauge:
              path: [foo]
              labelsFromPath: {name: [name]}
              valueFrom: [creationTimestamp]`,
			errs: []string{"[foo]: got nil while resolving path"}},
		{name: "exist path but valueFrom path is non-existent single", each: `
            type: Gauge
            gauge: {path: [spec, replicas], valueFrom: [non-existent]}`},
		{name: "exist path but valueFrom path non-existent array", each: `
            type: Gauge
            gauge:
              path: [status, condition_values]
              labelsFromPath: {name: [name]}
              valueFrom: [non-existent]`},
		{name: "array", each: `
            type: Gauge
            gauge:
              path: [status, condition_values]
              labelsFromPath: {name: [name]}
              valueFrom: [value]`,
			want: []string{`m{G,name="a"} 45`, `m{G,name="b"} 66`}},
		{name: "timestamp", each: `
            type: Gauge
            gauge: {path: [metadata, creationTimestamp]}`, want: []string{`m{G} 1.6563744e+09`}},
		{name: "quantity_milli", each: `
            type: Gauge
            gauge: {path: [status, quantity_milli]}`, want: []string{`m{G} 0.25`}},
		{name: "quantity_binarySI", each: `
            type: Gauge
            gauge: {path: [status, quantity_binarySI]}`, want: []string{`m{G} 5.36870912e+09`}},
		{name: "percentage", each: `
            type: Gauge
            gauge: {path: [status, percentage]}`, want: []string{`m{G} 0.28`}},
		{name: "path-relative valueFrom percentage", each: `
            type: Gauge
            gauge:
              path: [metadata]
              labelsFromPath: {name: [name]}
              valueFrom: [percentage]`,
			want: []string{`m{G,name="foo"} 0.39`}},
		{name: "boolean_string", each: `
            type: Gauge
            gauge: {path: [spec, paused], nilIsZero: true}`, want: []string{`m{G} 0`}},
		{name: "info", each: `
            type: Info
            info:
              labelsFromPath: {version: [spec, version]}`, want: []string{`m{G,version="v0.0.0"} 1`}},
		{name: "info nil path", each: `
            type: Info
            info: {path: [does, not, exist]}`},
		{name: "info label from key", each: `
            type: Info
            info: {path: [status, active], labelFromKey: type}`,
			want: []string{`m{G,type="type-a"} 1`, `m{G,type="type-b"} 1`}},
		{name: "info label from path", each: `
            type: Info
            info:
              path: [status, sub]
              labelsFromPath: {active: [active]}`,
			want: []string{`m{active="1",G} 1`, `m{active="3",G} 1`}},
		{name: "stateset", each: `
            type: StateSet
            stateSet: {path: [status, phase], labelName: phase, list: [foo, bar]}`,
			want: []string{`m{G,phase="bar"} 0`, `m{G,phase="foo"} 1`}},
		{name: "stateset nil path", each: `
            type: StateSet
            stateSet: {path: [does, not, exist], labelName: phase, list: [foo, bar]}`},
		{name: "stateset nil valueFrom", each: `
            type: StateSet
            stateSet: {path: [status], valueFrom: [does, not, exist], labelName: phase, list: [foo, bar]}`},
		{name: "stateset non-string value", each: `
            type: StateSet
            stateSet: {path: [spec, replicas], labelName: phase, list: ["1", "2"]}`,
			errs: []string{"[spec,replicas]: expected value for path to be string, got float64"}},
		{name: "stateset non-string valueFrom", each: `
            type: StateSet
            stateSet: {path: [status], valueFrom: [uptime], labelName: phase, list: [foo, bar]}`,
			errs: []string{"[status,uptime]: expected value for path to be string, got float64"}},
		{name: "status_conditions", each: `
            type: Gauge
            gauge: {path: [status, conditions, "[type=Ready]", status]}`, want: []string{`m{G} 1`}},
		{name: "status_conditions_all", each: `
            type: Gauge
            gauge:
              path: [status, conditions]
              labelsFromPath: {type: [type]}
              valueFrom: [status]`,
			want: []string{`m{G,type="Provisioned"} 0`, `m{G,type="Ready"} 1`}},
		{name: "= expression matching", each: `
            type: Info
            info:
              labelsFromPath: {bar: [metadata, annotations, "bar=baz"]}`, want: []string{`m{bar="baz",G} 1`}},
	})
}

// KSM's Test_addPathLabels and Test_addPathLabels_indexOutOfRange, through
// an info family's labels: numbers and bools rendered as fmt's %v, "*1"
// copying keys as they are, "label_object_*" prefixing them, a field
// overriding a copy, an index past the end giving no label.
func TestKSMPathLabels(t *testing.T) {
	runEachCases(t, object(t, crJSON), []eachCase{
		{name: "all", each: `
            type: Info
            info:
              labelsFromPath:
                bool: [spec, order, "-1", value]
                number: [spec, replicas]
                string: [metadata, labels, foo]`,
			want: []string{`m{bool="false",G,number="1",string="bar"} 1`}},
		{name: "*", each: `
            type: Info
            info:
              labelsFromPath:
                "*1": [metadata, annotations]
                bar: [metadata, labels, foo]
                label_object_*: [metadata, annotations]`,
			want: []string{`m{bar="bar",G,label_object_bar="baz",label_object_qux="quxx",qux="quxx"} 1`}},
		{name: "index out of range", each: `
            type: Info
            info:
              labelsFromPath:
                idx: [spec, order, "5"]
                name: [metadata, name]`,
			want: []string{`m{G,name="foo"} 1`}},
	})
}
