package customresource

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// seedConfigs are the configs of the tests: KSM's example and docs configs.
var seedConfigs = []string{
	exampleConfig,
	fooResource + `      metrics:
        - name: "uptime"
          each: {type: Gauge, gauge: {path: [status, uptime]}}
`,
	fooResource + `      commonLabels: {crd_type: "foo"}
      labelsFromPath: {name: [metadata, name]}
      metrics:
        - name: "ready_count"
          each:
            type: Gauge
            gauge: {path: [status, sub], labelFromKey: type, labelsFromPath: {active: [active]}, valueFrom: [ready]}
          commonLabels: {custom_metric: "yes"}
          labelsFromPath: {"*": [metadata, labels], "lorem_*": [metadata, annotations], "**": [metadata, annotations]}
        - name: refs
          each: {type: Info, info: {path: [spec, refs], labelsFromPath: {ref: []}}}
        - name: phase
          each: {type: StateSet, stateSet: {labelName: phase, path: [status, phase], list: [Pending, Bar]}}
        - name: conds
          each: {type: Gauge, gauge: {path: [status, conditions, "[name=a]", value], nilIsZero: true}}
        - name: keys
          each: {type: Info, info: {path: [status, active], labelFromKey: type}}
`,
	// The extensions.
	fooResource + `      labelSelector: "foo=bar"
      fieldSelector: "metadata.name=foo"
      labelsAllowlist: [foo, "*"]
      annotationsAllowlist: ["q*"]
      metrics:
        - name: conditions
          each: {type: Gauge, gauge: {path: [status, conditions], count: true, labelsFromPath: {name: [name]}}}
        - name: one
          each: {type: Gauge, gauge: {path: [spec, order], constant: 1, labelsFromPath: {id: [id]}}}
        - name: from_label
          each: {type: Gauge, gauge: {valueFromLabel: foo, nilIsZero: true}}
        - name: from_annotation
          each: {type: Gauge, gauge: {path: [status, sub], valueFromAnnotation: qux, labelFromKey: k}}
`,
}

// decodeObject decodes JSON as the dynamic client does: integers int64,
// other numbers float64.
func decodeObject(data []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return convertNumbers(m).(map[string]any), true
}

func convertNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = convertNumbers(e)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// checkObject checks the collectors.Object invariants: series sorted, no
// duplicates, each of a family the generator describes, its layout naming
// exactly its labels.
func checkObject(t *testing.T, g *Generator, o collectors.Object) {
	names := map[string]bool{}
	for _, f := range g.Families() {
		names[f.Name] = true
	}
	for i, s := range o.Series {
		if i > 0 && o.Series[i-1].Labels.Compare(s.Labels) >= 0 {
			t.Fatalf("series %d not sorted or repeated: %s after %s", i, s.Labels, o.Series[i-1].Labels)
		}
		if !names[s.Labels.Name()] {
			t.Fatalf("series of unknown family %s", s.Labels.Name())
		}
		n := 0
		for j := range s.Layout.Len() {
			if _, at := s.Layout.Key(j); at >= 0 {
				n++
			}
		}
		if n != len(s.Labels.Extra()) {
			t.Fatalf("layout %s for labels %s", s.Layout, s.Labels)
		}
		_ = line(s)
	}
}

// FuzzGenerate: any config that loads compiles, and any object generates
// without panicking, reporting its errors, with well-formed series. A
// config that does not load is replaced by seed config seed, so that every
// object is generated.
func FuzzGenerate(f *testing.F) {
	objects := []string{fooJSON, crJSON, `{}`, `{"status": null}`, `{"status": [1, "a", null, {"x": []}]}`,
		`{"spec": {"replicas": "5Gi", "refs": [{"a": 1}]}, "status": {"sub": {"": {"": null}}, "phase": ["x"]}}`}
	for i, c := range seedConfigs {
		for _, o := range objects {
			f.Add(uint8(i), c, o)
			f.Add(uint8(i), "", o)
		}
	}
	f.Fuzz(func(t *testing.T, seed uint8, config, obj string) {
		cfg, err := Load("fuzz.yaml", []byte(config))
		if err != nil {
			cfg = mustLoad(t, seedConfigs[int(seed)%len(seedConfigs)])
		}
		m, ok := decodeObject([]byte(obj))
		if !ok {
			return
		}
		for _, r := range cfg.Resources {
			g, err := NewGenerator(r, Options{OnError: func(_, _ string, err error) { _ = err.Error() }})
			if err != nil {
				t.Fatalf("loaded resource does not compile: %v", err)
			}
			o, ok := g.Generate(m)
			if !ok {
				t.Fatal("map refused")
			}
			checkObject(t, g, o)
		}
	})
}

// FuzzLoad: Load never panics, its error and warnings are one line each,
// and what it loads compiles.
func FuzzLoad(f *testing.F) {
	for _, c := range seedConfigs {
		f.Add(c)
	}
	f.Add("")
	f.Add("spec: [\n")
	f.Add("a: &x {b: 1}\nspec:\n  <<: *x\n  resources: [{<<: [*x]}]\n")
	f.Add("spec:\n  resources:\n  - metrics:\n    - each: {type: gauge, gauge: {path: [\"[x]\"]}}\n---\nx: 1\n")
	f.Fuzz(func(t *testing.T, config string) {
		cfg, err := Load("fuzz.yaml", []byte(config))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on several lines: %q", err)
			}
			return
		}
		for _, w := range cfg.Warnings {
			if strings.Contains(w, "\n") {
				t.Fatalf("warning on several lines: %q", w)
			}
		}
		for _, r := range cfg.Resources {
			if _, err := NewGenerator(r, Options{}); err != nil {
				t.Fatalf("loaded resource does not compile: %v", err)
			}
		}
	})
}
