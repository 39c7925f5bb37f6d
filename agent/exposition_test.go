package agent

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/exposition/name; -update rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "exposition", name)
	if *updateGolden {
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
		t.Errorf("exposition differs from %s (-want +got):\n%s", path, diff)
	}
}

func newExpoSnapshot() *snapshot.Snapshot {
	return snapshot.New(&discard{}, nil)
}

// handSeries builds one series of a hand-made object: the family labels in
// generator order, "" for an empty value, as collectors would.
func handSeries(name string, base *[]series.Label, value float64, kv ...string) series.Series {
	var keys []string
	var empty []bool
	var extra []series.Label
	for i := 0; i+1 < len(kv); i += 2 {
		keys = append(keys, kv[i])
		empty = append(empty, kv[i+1] == "")
		if kv[i+1] != "" {
			extra = append(extra, series.Label{Name: kv[i], Value: kv[i+1]})
		}
	}
	slices.SortFunc(extra, func(a, b series.Label) int { return strings.Compare(a.Name, b.Name) })
	var layout *series.Layout
	if len(keys) > 0 {
		layout = series.NewLayout(keys, empty, uint64(len(strings.Join(keys, ","))))
	}
	return series.Series{Labels: series.New(name, base, extra), Value: value, Layout: layout}
}

func handObject(uid string, base []series.Label, ss func(base *[]series.Label) []series.Series) collectors.Object {
	slices.SortFunc(base, func(a, b series.Label) int { return strings.Compare(a.Name, b.Name) })
	out := ss(&base)
	series.Sort(out)
	return collectors.Object{UID: uid, ResourceVersion: "1", Series: out}
}

// widgetSnapshot is a snapshot of hand-made resources that exercise every
// rule of the exposition: header prefixes and escaping, a family without
// series, the stateset type, object labels in KSM's order with a missing one
// and one beyond KSM's, family labels in generator order with empty values,
// escaped label values, value formats, several sets of one resource, and
// resources written in name order (one without objects has no headers).
func widgetSnapshot() *snapshot.Snapshot {
	s := newExpoSnapshot()
	widgets := &snapshot.Exposition{
		Base: []string{"namespace", "widget", "uid"},
		Families: []collectors.FamilyInfo{
			{Name: "kube_widget_info", Help: "Information about widget.", Type: collectors.Gauge, Stability: collectors.Stable},
			{Name: "kube_widget_ports", Help: "(Deprecated since v2.14.0) Ports.", Type: collectors.Gauge, Stability: collectors.Deprecated},
			{Name: "kube_widget_help", Help: `Back\slash` + "\nand newline.", Type: collectors.Gauge, Stability: collectors.Alpha},
			{Name: "kube_widget_state", Help: "A state set.", Type: "stateset", Stability: collectors.Alpha},
			{Name: "kube_widget_values", Help: "Values.", Type: collectors.Gauge, Stability: collectors.Alpha},
			{Name: "kube_widget_restarts_total", Help: "Restarts.", Type: collectors.Counter, Stability: collectors.Stable},
			{Name: "kube_widget_none", Help: "Never any series.", Type: collectors.Gauge, Stability: collectors.Alpha},
		},
	}
	a := s.NewSet("widgets", nil)
	s.DescribeSet(a, widgets)
	s.Apply(a, handObject("u1", []series.Label{{Name: "namespace", Value: "ns"}, {Name: "widget", Value: "w1"}, {Name: "uid", Value: "u1"}},
		func(b *[]series.Label) []series.Series {
			return []series.Series{
				handSeries("kube_widget_info", b, 1, "node", "n1", "owner_kind", "", "owner_name", "", "ip", `a"b\c`+"\nd"),
				handSeries("kube_widget_ports", b, 1, "port_name", "", "port_protocol", "TCP"),
				handSeries("kube_widget_help", b, 1),
				handSeries("kube_widget_state", b, 1, "state", "on"),
				handSeries("kube_widget_state", b, 0, "state", "off"),
				handSeries("kube_widget_values", b, math.NaN(), "v", "nan"),
				handSeries("kube_widget_values", b, math.Inf(1), "v", "inf"),
				handSeries("kube_widget_values", b, math.Inf(-1), "v", "-inf"),
				handSeries("kube_widget_values", b, math.Copysign(0, -1), "v", "-0"),
				handSeries("kube_widget_values", b, -1, "v", "-1"),
				handSeries("kube_widget_values", b, 1e21, "v", "1e21"),
				handSeries("kube_widget_values", b, 123456789, "v", "int"),
				handSeries("kube_widget_values", b, 9007199254740993, "v", "2^53+1"),
				handSeries("kube_widget_values", b, 1700000000.5, "v", "time"),
				handSeries("kube_widget_values", b, 1.5e-7, "v", "small"),
				handSeries("kube_widget_values", b, 0.1, "v", "tenth"),
				handSeries("kube_widget_restarts_total", b, 3, "container", "c"),
			}
		}))
	// A second set of the same resource (another namespace): its lines follow
	// the first set's in each family. Its object lacks uid and has a label
	// beyond KSM's defaults (--series-labels), written after them.
	b := s.NewSet("widgets", nil)
	s.DescribeSet(b, widgets)
	s.Apply(b, handObject("u2", []series.Label{{Name: "namespace", Value: "other"}, {Name: "widget", Value: "w2"}, {Name: "label_team", Value: "a"}},
		func(b *[]series.Label) []series.Series {
			return []series.Series{
				handSeries("kube_widget_info", b, 1, "node", "", "owner_kind", "", "owner_name", "", "ip", ""),
				handSeries("kube_widget_restarts_total", b, 0, "container", "c"),
			}
		}))
	gadgets := s.NewSet("gadgets", nil) // no objects: no headers
	s.DescribeSet(gadgets, &snapshot.Exposition{Base: []string{"gadget"},
		Families: []collectors.FamilyInfo{{Name: "kube_gadget_info", Help: "Gadget.", Type: collectors.Gauge}}})
	aard := s.NewSet("aardvarks", nil) // written first
	s.DescribeSet(aard, &snapshot.Exposition{Base: []string{"aardvark"},
		Families: []collectors.FamilyInfo{{Name: "kube_aardvark_created", Help: "Created.", Type: collectors.Gauge, Stability: collectors.Stable}}})
	s.Apply(aard, handObject("a1", []series.Label{{Name: "aardvark", Value: "x"}}, func(b *[]series.Label) []series.Series {
		return []series.Series{handSeries("kube_aardvark_created", b, 1.7e9)}
	}))
	s.NewSet("undescribed", nil) // a set without a description is not written
	return s
}

func render(t *testing.T, s *snapshot.Snapshot, openMetrics bool, keep func(string) bool) string {
	t.Helper()
	var b strings.Builder
	if err := s.WriteExposition(&b, openMetrics, keep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExpositionGolden(t *testing.T) {
	s := widgetSnapshot()
	checkGolden(t, "widgets.txt", render(t, s, false, nil))
	checkGolden(t, "widgets.openmetrics.txt", render(t, s, true, nil))
}

// Real objects through the real generators: the object labels in KSM's
// order, the family labels as KSM writes them (kube_pod_info's
// priority_class="" among them), and, once parsed with empty values dropped,
// exactly the series the snapshot pushes.
func TestExpositionRealObjects(t *testing.T) {
	s := newExpoSnapshot()
	var pushed []string
	for _, c := range []struct {
		resource string
		obj      any
	}{
		{"pods", fixtures.RealisticPod(1)},
		{"deployments", fixtures.RealisticDeployment(1)},
		{"nodes", fixtures.RealisticNode(1)},
	} {
		rs, err := collectors.Lookup([]string{c.resource})
		if err != nil {
			t.Fatal(err)
		}
		gen := rs[0].NewGenerator(collectors.Options{})
		set := s.NewSet(c.resource, nil)
		s.DescribeSet(set, snapshot.NewExposition(gen))
		o, _ := gen.Generate(c.obj)
		for _, ss := range o.Series {
			pushed = append(pushed, ss.String())
		}
		s.Apply(set, o)
	}
	text := render(t, s, false, nil)
	checkGolden(t, "objects.txt", text)

	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var parsed []string
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			ls := []series.Label{{Name: series.MetricName, Value: name}}
			for _, lp := range m.GetLabel() {
				ls = append(ls, series.Label{Name: lp.GetName(), Value: lp.GetValue()})
			}
			v := m.GetGauge().GetValue()
			if m.GetCounter() != nil {
				v = m.GetCounter().GetValue()
			}
			parsed = append(parsed, series.Series{Labels: series.FromPairs(ls), Value: v}.String())
		}
	}
	slices.Sort(parsed)
	slices.Sort(pushed)
	if diff := cmp.Diff(pushed, parsed); diff != "" {
		t.Errorf("exposition, parsed, differs from the pushed series (-pushed +exposition):\n%s", diff)
	}
}

func TestExpositionResourceFilter(t *testing.T) {
	s := widgetSnapshot()
	for _, c := range []struct {
		query string
		want  []string // resources whose headers are written
	}{
		{"", []string{"aardvark", "widget"}},
		{"resources=widgets", []string{"widget"}},
		{"resources=widgets,aardvarks&resources=gadgets", []string{"aardvark", "widget"}},
		{"exclude_resources=widgets", []string{"aardvark"}},
		{"resources=widgets,aardvarks&exclude_resources=aardvarks", []string{"widget"}},
		{"resources=", nil},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics?"+c.query, nil)
		keep := resourceFilter(req.URL.Query())
		var got []string
		for line := range strings.Lines(render(t, s, false, keep)) {
			if rest, ok := strings.CutPrefix(line, "# TYPE kube_"); ok {
				kind, _, _ := strings.Cut(rest, "_")
				if !slices.Contains(got, kind) {
					got = append(got, kind)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("?%s: wrote %v, want %v", c.query, got, c.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	om := func(v, esc string) string {
		return "application/openmetrics-text; version=" + v + "; charset=utf-8; escaping=" + esc
	}
	for _, c := range []struct {
		accept, want string
	}{
		{"", contentTypeText},
		{"*/*", contentTypeText},
		{"text/plain", contentTypeText},
		{"text/plain;version=0.0.4", contentTypeText},
		{"application/openmetrics-text", om("0.0.1", "underscores")},
		{"application/openmetrics-text;version=1.0.0", om("1.0.0", "underscores")},
		{"application/openmetrics-text;version=2.0.0", contentTypeText},
		// What Prometheus 3 sends: OpenMetrics 1.0.0 first, by quality.
		{"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5," +
			"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", om("1.0.0", "allow-utf-8")},
		{"text/plain;version=0.0.4;q=0.3,application/openmetrics-text;version=1.0.0;q=0.5", om("1.0.0", "underscores")},
		// Protobuf is not written (as in KSM): text.
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7," +
			"application/openmetrics-text;version=1.0.0;q=0.6", contentTypeText},
		{"application/json", contentTypeText},
	} {
		if got, _ := negotiate(c.accept); got != c.want {
			t.Errorf("Accept %q: got %q, want %q", c.accept, got, c.want)
		}
	}
}

func TestMetricsHandler(t *testing.T) {
	s := widgetSnapshot()
	text := render(t, s, false, nil)
	openMetrics := render(t, s, true, nil)
	get := func(h http.Handler, accept, encoding string) (*http.Response, string) {
		t.Helper()
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		// Set by hand, the transport does not decompress by itself.
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	plain, gz := metricsHandler(s, false, nil), metricsHandler(s, true, nil)
	for _, c := range []struct {
		name             string
		h                http.Handler
		accept, encoding string
		wantType         string
		wantGzip         bool
		want             string
	}{
		{"text", plain, "", "", contentTypeText, false, text},
		{"openmetrics", plain, "application/openmetrics-text;version=1.0.0", "",
			"application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores", false, openMetrics},
		{"gzip off", plain, "", "gzip", contentTypeText, false, text},
		{"gzip", gz, "", "gzip, deflate", contentTypeText, true, text},
		{"gzip with quality", gz, "", "br;q=1.0, gzip;q=0.8", contentTypeText, true, text},
		{"gzip not asked", gz, "", "identity", contentTypeText, false, text},
		{"gzip openmetrics", gz, "application/openmetrics-text", "gzip", "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores", true, openMetrics},
	} {
		resp, body := get(c.h, c.accept, c.encoding)
		if got := resp.Header.Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q, want %q", c.name, got, c.wantType)
		}
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != c.wantGzip {
			t.Errorf("%s: gzip %v, want %v", c.name, got, c.wantGzip)
		}
		if body != c.want {
			t.Errorf("%s: body differs from WriteExposition's:\n%s", c.name, cmp.Diff(c.want, body))
		}
	}
}

// blockingWriter blocks its first Write until released.
type blockingWriter struct {
	started, release chan struct{}
	n                int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		close(w.started)
		<-w.release
	}
	w.n += len(p)
	return len(p), nil
}

// A slow reader does not hold the snapshot's lock: while it blocks, objects
// are applied and deleted, and an object deleted meanwhile is not written in
// the families that follow.
func TestExpositionSlowReaderDoesNotStallSnapshot(t *testing.T) {
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	s := newExpoSnapshot()
	set := s.NewSet("pods", nil)
	s.DescribeSet(set, snapshot.NewExposition(gen))
	const n = 200 // more than one buffer's worth of kube_pod_info lines
	for i := range n {
		o, _ := gen.Generate(fixtures.RealisticPod(i))
		s.Apply(set, o)
	}
	w := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- s.WriteExposition(io.MultiWriter(w, &out), false, nil)
	}()
	<-w.started
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		o, _ := gen.Generate(fixtures.RealisticPod(n))
		s.Apply(set, o)
		s.Remove(set, string(fixtures.RealisticPod(0).UID), "")
	}()
	select {
	case <-applied:
	case <-time.After(10 * time.Second):
		t.Fatal("apply blocked behind a slow /metrics reader")
	}
	close(w.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The deleted pod was written in the first families at most, never in
	// kube_pod_scheduler, the last of the pod families.
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "kube_pod_scheduler{") && strings.Contains(line, string(fixtures.RealisticPod(0).UID)) {
			t.Fatalf("a pod deleted during the render was written after: %s", line)
		}
	}
}

// An address that cannot be listened on is a configuration error (exit
// status 2), named by its flag.
func TestListenMetricsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a := &agent{cfg: Config{MetricsAddress: ln.Addr().String()}, snap: newExpoSnapshot(), logger: slog.New(slog.DiscardHandler)}
	srv, err := a.listenMetrics()
	if _, ok := errors.AsType[*ConfigError](err); !ok || !strings.HasPrefix(err.Error(), "--metrics-address: ") {
		t.Fatalf("listen on a used address: %v, want a *ConfigError naming --metrics-address", err)
	}
	if srv != nil {
		t.Error("a server was returned")
	}
	if srv, err := (&agent{}).listenMetrics(); srv != nil || err != nil {
		t.Errorf("without --metrics-address: %v, %v; want nothing", srv, err)
	}
}
