package customresource

import (
	"reflect"
	"testing"
)

// KSM's Test_valuePath_Get on its cr object, and the other path forms.
func TestPathGet(t *testing.T) {
	cr := object(t, crJSON)
	for _, c := range []struct {
		name  string
		parts []string
		want  any
	}{
		{"obj", []string{"spec", "replicas"}, float64(1)},
		{"array", []string{"status", "condition_values", "[name=b]", "value"}, float64(66)},
		{"array index", []string{"spec", "order", "0", "value"}, true},
		{"string", []string{"metadata", "labels", "foo"}, "bar"},
		{"match number", []string{"spec", "order", "[id=3]", "value"}, false},
		{"match bool", []string{"spec", "order", "[value=false]", "id"}, float64(3)},
		{"negative index", []string{"spec", "order", "-1", "id"}, float64(3)},
		{"index past the end", []string{"spec", "order", "2"}, nil},
		{"index before the start", []string{"spec", "order", "-3"}, nil},
		{"index on a map", []string{"spec", "0"}, nil},
		{"key on a list", []string{"spec", "order", "id"}, nil},
		{"key on a scalar", []string{"spec", "replicas", "x"}, nil},
		{"missing key", []string{"spec", "nope", "deeper"}, nil},
		{"no match", []string{"status", "condition_values", "[name=z]"}, nil},
		{"selector on a map", []string{"status", "[name=a]"}, nil},
		{"key=value matching", []string{"metadata", "annotations", "bar=baz"}, "baz"},
		{"key=value not matching", []string{"metadata", "annotations", "bar=nope"}, nil},
		// "true" converts to the number 1, so it matches id 1 (KSM's toFloat64 of the value).
		{"selector value as number", []string{"spec", "order", "[id=true]", "value"}, true},
		{"selector quantity", []string{"status", "condition_values", "[value=66000m]", "name"}, "b"},
		{"empty path", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := compilePath(c.parts)
			if err != nil {
				t.Fatal(err)
			}
			var obj any = cr
			if c.parts == nil {
				obj = nil
			}
			if got := p.get(obj); !reflect.DeepEqual(got, c.want) {
				t.Errorf("get %v = %#v, want %#v", c.parts, got, c.want)
			}
		})
	}
	// An empty path is the value itself.
	if p, _ := compilePath(nil); !reflect.DeepEqual(p.get(cr), cr) {
		t.Error("empty path is not the object")
	}
}

func TestPathCompileErrorsAndString(t *testing.T) {
	if _, err := compilePath([]string{"status", "conditions", "[Ready]"}); err == nil || err.Error() != "invalid list lookup: [Ready]" {
		t.Errorf("error %v", err)
	}
	p, _ := compilePath([]string{"status", "[type=Ready]", "0"})
	if s := p.String(); s != "[status,[type=Ready],0]" {
		t.Errorf("String %s", s)
	}
	if p, _ := compilePath(nil); p.String() != "[]" {
		t.Errorf("empty String %s", p.String())
	}
}

// A map key holding "=" twice is a plain key; the dynamic client's int64
// numbers match a selector as float64 ones do.
func TestPathKeysAndInt64(t *testing.T) {
	obj := map[string]any{
		"a=b=c": "x",
		"list":  []any{map[string]any{"id": int64(7), "v": "seven"}},
	}
	for parts, want := range map[string]any{"a=b=c": "x", "[id=7]": "seven"} {
		ps := []string{parts}
		if parts == "[id=7]" {
			ps = []string{"list", parts, "v"}
		}
		p, _ := compilePath(ps)
		if got := p.get(obj); got != want {
			t.Errorf("%v: %#v", ps, got)
		}
	}
}
