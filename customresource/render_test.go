package customresource

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// lines renders the series of obj as KSM writes them on /metrics, one
// `name{labels} value` line each: labels in KSM's order (by name, empty values
// written as ""), values as KSM's writeFloat. The lines come in the series'
// order (by label set); KSM's come in its own, so golden comparisons sort both.
func lines(t *testing.T, g collectors.Generator, obj any) []string {
	t.Helper()
	o, ok := g.Generate(obj)
	if !ok {
		t.Fatalf("Generate(%T) not ok", obj)
	}
	out := make([]string, 0, len(o.Series))
	for _, s := range o.Series {
		out = append(out, line(s))
	}
	return out
}

// exposition renders objects as KSM writes one custom resource's store on
// /metrics (text format 0.0.4): when there is an object, every family's HELP
// and TYPE (info and stateset written as gauge) in the generator's order,
// each followed by its lines for every object. Objects come in the order
// given (KSM's is its map's), lines of an object in label order.
func exposition(t *testing.T, g collectors.Generator, objs ...any) string {
	t.Helper()
	if len(objs) == 0 {
		return ""
	}
	var b strings.Builder
	for _, f := range g.Families() {
		typ := f.Type
		if typ == collectors.Info || typ == collectors.StateSet {
			typ = collectors.Gauge
		}
		b.WriteString("# HELP " + f.Name + " " + strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(f.Help) + "\n")
		b.WriteString("# TYPE " + f.Name + " " + string(typ) + "\n")
		for _, obj := range objs {
			o, ok := g.Generate(obj)
			if !ok {
				t.Fatalf("Generate(%T) not ok", obj)
			}
			for _, s := range o.Series {
				if s.Labels.Name() == f.Name {
					b.WriteString(line(s) + "\n")
				}
			}
		}
	}
	return b.String()
}

// line renders one series as KSM's exposition line.
func line(s collectors.Series) string {
	var b strings.Builder
	b.WriteString(s.Labels.Name())
	extra := s.Labels.Extra()
	sep := "{"
	label := func(k, v string) {
		b.WriteString(sep + k + `="` + strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(v) + `"`)
		sep = ","
	}
	// The object's labels (the GVK ones) merged in name order, as the
	// snapshot's exposition writes a custom resource's.
	var base []collectors.Label
	if b := s.Labels.Base(); b != nil {
		base = *b
	}
	merged := func(k, v string) {
		for ; len(base) > 0 && base[0].Name < k; base = base[1:] {
			label(base[0].Name, base[0].Value)
		}
		label(k, v)
	}
	if s.Layout != nil {
		for i := range s.Layout.Len() {
			k, at := s.Layout.Key(i)
			v := ""
			if at >= 0 {
				v = extra[at].Value
			}
			merged(k, v)
		}
	} else {
		for _, l := range extra {
			merged(l.Name, l.Value)
		}
	}
	for _, l := range base {
		label(l.Name, l.Value)
	}
	if sep == "," {
		b.WriteString("}")
	}
	b.WriteString(" " + ksmFloat(s.Value))
	return b.String()
}

// ksmFloat formats a value as KSM's writeFloat: Go's shortest 'g' form,
// which writes 1, 0, NaN, +Inf and -Inf as KSM spells them out.
func ksmFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// mustLoad loads a config from YAML text.
func mustLoad(t testing.TB, text string) *Config {
	t.Helper()
	cfg, err := Load("crs.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// generator returns the generator of the config's first resource, and the
// per-object errors it reports.
func generator(t testing.TB, text string) (*Generator, *[]string) {
	t.Helper()
	cfg := mustLoad(t, text)
	var errs []string
	g, err := NewGenerator(cfg.Resources[0], Options{OnError: func(resource, metric string, err error) {
		errs = append(errs, resource+" "+metric+": "+err.Error())
	}})
	if err != nil {
		t.Fatalf("NewGenerator: %v", err)
	}
	return g, &errs
}

// object decodes JSON as the object of a custom resource (numbers float64,
// as in KSM's tests; the dynamic client gives int64 for integers).
func object(t testing.TB, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// equalLines compares rendered lines.
func equalLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
