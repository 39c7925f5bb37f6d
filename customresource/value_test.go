package customresource

import (
	"encoding/json"
	"math"
	"testing"
)

// KSM's toFloat64 conversions (registry_factory.go; the docs' "Type
// conversion and special handling").
func TestToFloat64(t *testing.T) {
	for _, c := range []struct {
		in      any
		want    float64
		wantErr string
	}{
		{float64(43.21), 43.21, ""},
		{float32(0.5), 0.5, ""},
		{int(3), 3, ""},
		{int32(-3), -3, ""},
		{int64(1 << 40), 1 << 40, ""},
		{uint(3), 3, ""},
		{uint8(3), 3, ""},
		{uint32(3), 3, ""},
		{uint64(3), 3, ""},
		{true, 1, ""},
		{false, 0, ""},
		{"true", 1, ""},
		{"TRUE", 1, ""},
		{"Yes", 1, ""},
		{"false", 0, ""},
		{"No", 0, ""},
		{"Unknown", 0, ""},
		{"2022-06-28T00:00:00Z", 1656374400, ""},
		{"2022-06-28T02:00:00+02:00", 1656374400, ""},
		{"250m", 0.25, ""},
		{"5Gi", 5368709120, ""},
		{"1e3", 1000, ""},
		{"-1.5", -1.5, ""},
		{"28%", 0.28, ""},
		{"100%", 1, ""},
		{"0x1p4", 16, ""}, // not a quantity: ParseFloat's hex float
		{"Inf", math.Inf(1), ""},
		{"abc", 0, `strconv.ParseFloat: parsing "abc": invalid syntax`},
		{"5Gix", 0, `strconv.ParseFloat: parsing "5Gix": invalid syntax`},
		{"-5%", 0, `strconv.ParseFloat: parsing "-5%": invalid syntax`},
		{"", 0, `strconv.ParseFloat: parsing "": invalid syntax`},
		{nil, 0, "expected number but found nil value"},
		{int8(1), 0, "expected number but was 1"},
		{json.Number("1"), 0, "expected number but was 1"},
		{map[string]any{"a": 1.0}, 0, "expected number but was map[a:1]"},
		{[]any{"a"}, 0, "expected number but was [a]"},
	} {
		got, err := toFloat64(c.in, false)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != c.wantErr || c.wantErr == "" && got != c.want {
			t.Errorf("toFloat64(%#v) = %v, %q; want %v, %q", c.in, got, gotErr, c.want, c.wantErr)
		}
	}
	if got, err := toFloat64(nil, true); got != 0 || err != nil {
		t.Errorf("nil with nilIsZero: %v %v", got, err)
	}
	if got, _ := toFloat64("NaN", false); !math.IsNaN(got) {
		t.Errorf("NaN: %v", got)
	}
}

// Label values are fmt's %v of what the path reached.
func TestLabelValue(t *testing.T) {
	for in, want := range map[any]string{
		"s": "s", float64(1): "1", float64(1.5): "1.5", float64(1e21): "1e+21",
		int64(7): "7", true: "true", false: "false",
	} {
		if got := labelValue(in); got != want {
			t.Errorf("labelValue(%#v) = %q, want %q", in, got, want)
		}
	}
	if got := labelValue(map[string]any{"b": 1.0, "a": "x"}); got != "map[a:x b:1]" {
		t.Errorf("map: %q", got)
	}
	if got := labelValue([]any{"a", 2.0}); got != "[a 2]" {
		t.Errorf("list: %q", got)
	}
}
