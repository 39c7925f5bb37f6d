package collectors

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCase is one object of a resource and the options it is generated with.
// Its expected series are in testdata/<resource>/<name>.golden, one per line in
// Prometheus's text format, in the generator's (sorted) order.
type goldenCase struct {
	name string
	obj  any
	opts Options
}

// runGolden generates every case with the named resource and compares the output
// with its golden file; with -update it rewrites the file instead.
func runGolden(t *testing.T, resourceName string, cases []goldenCase) {
	t.Helper()
	rs, err := Lookup([]string{resourceName})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, ok := rs[0].NewGenerator(c.opts).Generate(c.obj)
			if !ok {
				t.Fatalf("generator refused %T", c.obj)
			}
			checkSeriesInvariants(t, o.Series)
			var b strings.Builder
			for _, s := range o.Series {
				b.WriteString(s.String())
				b.WriteByte('\n')
			}
			got := b.String()
			path := filepath.Join("testdata", resourceName, c.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("series differ from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// checkSeriesInvariants asserts what every generator owes the snapshot: label
// sets sorted by name with a metric name, no empty values or repeated names, and
// series sorted without duplicates.
func checkSeriesInvariants(t *testing.T, ss []Series) {
	t.Helper()
	for _, s := range ss {
		checkLabelNames(t, s)
	}
	checkSorted(t, ss)
}

// checkSorted is checkSeriesInvariants without the check of KSM's label names.
func checkSorted(t *testing.T, ss []Series) {
	t.Helper()
	for i, s := range ss {
		if s.Labels.Get(MetricName) == "" {
			t.Errorf("series %v has no metric name", s)
		}
		prev := ""
		for l := range s.Labels.All() {
			if l.Value == "" {
				t.Errorf("series %v has empty label %q", s, l.Name)
			}
			if prev != "" && prev >= l.Name {
				t.Errorf("series %v: labels not strictly sorted at %q", s, l.Name)
			}
			prev = l.Name
		}
		if i > 0 && ss[i-1].Labels.Compare(s.Labels) >= 0 {
			t.Errorf("series not strictly sorted at %v", s)
		}
	}
}
