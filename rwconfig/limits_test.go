package rwconfig

import (
	"strings"
	"testing"
)

func TestLabelLimits(t *testing.T) {
	if (DefaultLabelLimits == LabelLimits{}) {
		t.Fatal("DefaultLabelLimits sets no limit")
	}
	for _, tc := range []struct {
		name  string
		block []string // lines under the entry's url
		want  LabelLimits
	}{
		{"defaults", nil, DefaultLabelLimits},
		{"empty block", []string{"    label_limits: {}"}, DefaultLabelLimits},
		{"null block", []string{"    label_limits:"}, DefaultLabelLimits},
		{"one override keeps the other defaults", []string{
			"    label_limits:",
			"      max_label_names_per_series: 63",
		}, LabelLimits{MaxLabelNamesPerSeries: 63, MaxLabelNameLength: 256, MaxLabelValueLength: 2048}},
		{"all overridden", []string{
			"    label_limits:",
			"      max_label_names_per_series: 40",
			"      max_label_name_length: 1024",
			"      max_label_value_length: 4096",
		}, LabelLimits{MaxLabelNamesPerSeries: 40, MaxLabelNameLength: 1024, MaxLabelValueLength: 4096}},
		{"0 is no limit", []string{
			"    label_limits: {max_label_names_per_series: 0, max_label_name_length: 0, max_label_value_length: 0}",
		}, LabelLimits{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := y(append([]string{"remote_write:", "  - url: https://mimir.example.com/api/v1/push"}, tc.block...)...)
			cfg, err := load(t, doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.RemoteWrite[0].LabelLimits; got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLabelLimitsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block []string
		want  string
	}{
		{"negative", []string{
			"    label_limits:",
			"      max_label_names_per_series: 30",
			"      max_label_value_length: -1",
		}, "rw.yaml:5: remote_write[0].label_limits.max_label_value_length: must be 0 (no limit) or more, got -1"},
		{"negative count", []string{
			"    label_limits: {max_label_names_per_series: -30}",
		}, "rw.yaml:3: remote_write[0].label_limits.max_label_names_per_series: must be 0 (no limit) or more, got -30"},
		{"fraction", []string{
			"    label_limits:",
			"      max_label_name_length: 1.5",
		}, "rw.yaml:4: remote_write[0].label_limits.max_label_name_length: got 1.5, want a whole number (0 for no limit)"},
		{"exponent", []string{
			"    label_limits:",
			"      max_label_value_length: 2e3",
		}, "rw.yaml:4: remote_write[0].label_limits.max_label_value_length: got 2e3, want a whole number (0 for no limit)"},
		{"string", []string{
			"    label_limits:",
			"      max_label_names_per_series: thirty",
		}, "rw.yaml:4: remote_write[0].label_limits.max_label_names_per_series: got a string, want a number"},
		{"unknown key", []string{
			"    label_limits:",
			"      max_labels: 30",
		}, `rw.yaml:4: remote_write[0].label_limits.max_labels: unknown key "max_labels"`},
		{"not a mapping", []string{
			"    label_limits: 30",
		}, "rw.yaml:3: remote_write[0].label_limits: want a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := y(append([]string{"remote_write:", "  - url: https://mimir.example.com/api/v1/push"}, tc.block...)...)
			_, err := load(t, doc)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

// The one-flag form gets the default limits; limits are part of an entry's
// configuration (a change is a reload of the endpoint) but not of its name
// (its WAL cursor stays).
func TestLabelLimitsDefaultsAndIdentity(t *testing.T) {
	ep, err := NewEndpoint("default", "https://mimir.example.com/api/v1/push")
	if err != nil {
		t.Fatal(err)
	}
	if ep.LabelLimits != DefaultLabelLimits {
		t.Errorf("--remote-write-url: limits %+v, want %+v", ep.LabelLimits, DefaultLabelLimits)
	}
	base := y(
		"remote_write:",
		"  - url: https://mimir.example.com/api/v1/push",
		"    label_limits: {max_label_names_per_series: 30}",
	)
	a, err := load(t, base)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(t, strings.Replace(base, "30}", "40}", 1))
	if err != nil {
		t.Fatal(err)
	}
	ea, eb := a.RemoteWrite[0], b.RemoteWrite[0]
	if ea.ID() == eb.ID() {
		t.Error("other label limits, same ID")
	}
	if ea.Name != eb.Name {
		t.Errorf("other label limits renamed the endpoint: %s -> %s", ea.Name, eb.Name)
	}
}
