package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCustomResourceExtensions runs the agent with the extensions of the
// custom resource state config (e2e/testdata/crs-extensions: counts of a list
// and of a map, a constant, values from annotations, the labels and
// annotations families, label and field selectors) on the real apiserver and
// asserts what it pushed to Prometheus: the values, that only the selected
// objects have series, that an object entering or leaving the selectors
// starts or ends its series, and that a field selector the apiserver refuses
// is one logged error, not a stopped agent.
func TestCustomResourceExtensions(t *testing.T) {
	dir := filepath.Join("testdata", "crs-extensions")
	crds, objects := filepath.Join(dir, "crds.yaml"), filepath.Join(dir, "objects.yaml")
	t.Cleanup(func() {
		_ = kubectl("delete", "-f", crds, "--ignore-not-found", "--wait=true", "--timeout=60s")
		_ = kubectl("delete", "namespace", "crs-ext", "--ignore-not-found", "--wait=false")
	})
	if err := kubectl("apply", "-f", crds); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("apply", "-f", objects); err != nil {
		t.Fatal(err)
	}
	agent := startAgentFlags(t, "--custom-resource-state-only", "--custom-resource-state-config-file", filepath.Join(dir, "config.yaml"))
	defer agent.stop(t)

	w1 := `name="w1",namespace="crs-ext"`
	eventually(t, 20*time.Second, "w1's series pushed", func() error {
		return queryValue(`ext_widget_items{`+w1+`}`, 3)
	})
	for q, want := range map[string]float64{
		`ext_widget_items_by_state{` + w1 + `,state="Ready"}`:                                                      2,
		`ext_widget_items_by_state{` + w1 + `,state="Failed"}`:                                                     1,
		`ext_widget_zones{` + w1 + `}`:                                                                             2,
		`ext_widget_tier_info{` + w1 + `,tier="gold"}`:                                                             1,
		`ext_widget_desired_replicas{` + w1 + `}`:                                                                  4,
		`ext_widget_budget_bytes{` + w1 + `}`:                                                                      1.5 * (1 << 30),
		`ext_widget_labels{` + w1 + `,label_team="payments",label_app_kubernetes_io_part_of="shop"}`:               1,
		`ext_widget_annotations{` + w1 + `,annotation_note="kept",annotation_example_com_replicas="4"}`:            1,
		`count(ext_widget_labels{` + w1 + `,customresource_kind="Widget",customresource_group="ext.example.com"})`: 1,
	} {
		if err := queryValue(q, want); err != nil {
			t.Error(err)
		}
	}
	// The selectors: w2 (tier silver) and w3 (team web) are not watched.
	for _, name := range []string{"w2", "w3"} {
		if err := noSeries(fmt.Sprintf(`{__name__=~"ext_widget_.+",name=%q}`, name)); err != nil {
			t.Errorf("%s is outside the selectors: %v", name, err)
		}
	}
	// The Gadget's field selector is refused by the apiserver: one error
	// logged, no series, the rest runs.
	if !strings.Contains(agent.out.String(), "refuses its selectors") {
		t.Errorf("no error logged for the Gadget's field selector:\n%s", tail(agent.out.String(), 20))
	}
	if err := noSeries(`{__name__=~"ext_gadget_.+"}`); err != nil {
		t.Error(err)
	}

	// w3 enters the label selector: its series start. w1 leaves it: its
	// series end (a watch with a selector says an object that stops matching
	// is deleted). A change of w1's items before that is counted at once.
	start := time.Now()
	if err := kubectl("label", "widgets.ext.example.com", "w3", "-n", "crs-ext", "--overwrite", "team=payments"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "w3's series pushed once selected", func() error {
		if err := queryValue(`ext_widget_items{name="w3"}`, 0); err != nil {
			return err
		}
		return queryValue(`ext_widget_desired_replicas{name="w3"}`, 2)
	})
	t.Logf("an object entering the label selector visible after %s", time.Since(start).Round(time.Millisecond))
	if err := noSeries(`ext_widget_items_by_state{name="w3"}`); err != nil {
		t.Errorf("an empty list has no per-state count: %v", err)
	}

	start = time.Now()
	if err := kubectl("patch", "widgets.ext.example.com", "w1", "-n", "crs-ext", "--type=json", "-p",
		`[{"op":"add","path":"/status/items/-","value":{"name":"d","state":"Failed"}}]`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the new item counted", func() error {
		if err := queryValue(`ext_widget_items{`+w1+`}`, 4); err != nil {
			return err
		}
		return queryValue(`ext_widget_items_by_state{`+w1+`,state="Failed"}`, 2)
	})
	t.Logf("a list's new element counted after %s", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if err := kubectl("label", "widgets.ext.example.com", "w1", "-n", "crs-ext", "--overwrite", "team=web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "w1's series ended once unselected", func() error {
		return noSeries(`{__name__=~"ext_widget_.+",name="w1"}`)
	})
	t.Logf("an object leaving the label selector ended after %s", time.Since(start).Round(time.Millisecond))

	// The field selector: w3 moved to tier silver leaves it.
	if err := kubectl("patch", "widgets.ext.example.com", "w3", "-n", "crs-ext", "--type=merge", "-p", `{"spec":{"tier":"silver"}}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "w3's series ended once outside the field selector", func() error {
		return noSeries(`{__name__=~"ext_widget_.+",name="w3"}`)
	})
	if strings.Contains(agent.out.String(), "panic") {
		t.Error("the agent logged a panic")
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
