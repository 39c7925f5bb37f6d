package remotewrite

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/series"
)

// testLimits are small limits for the tests: 6 labels, names of 12 bytes,
// values of 16 bytes.
var testLimits = LabelLimits{MaxLabelNamesPerSeries: 6, MaxLabelNameLength: 12, MaxLabelValueLength: 16}

func TestLabelLimiterCheck(t *testing.T) {
	ext := []series.Label{{Name: "cluster", Value: "prod"}, {Name: "empty", Value: ""}, {Name: "zone", Value: "eu-1"}}
	m := newQueueMetrics(nil)
	l := newLabelLimiter(testLimits, ext, m, slog.New(slog.DiscardHandler))
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	for _, tc := range []struct {
		name   string
		ls     series.Labels
		reason string // "" when within the limits
		got    int
		label  string
	}{
		{"4 + 2 external = 6", labels("__name__", "m", "a", "1", "b", "2", "c", "3"), "", 0, ""},
		{"5 + 2 external = 7", labels("__name__", "m", "a", "1", "b", "2", "c", "3", "d", "4"), reasonLabelCount, 7, ""},
		{"5 + 1 external it lacks = 6", labels("__name__", "m", "a", "1", "b", "2", "c", "3", "zone", "own"), "", 0, ""},
		{"6 with both external = 6", labels("__name__", "m", "a", "1", "b", "2", "c", "3", "cluster", "x", "zone", "own"), "", 0, ""},
		{"7 + 2 external = 9", labels("__name__", "m", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"), reasonLabelCount, 9, ""},
		{"shared object labels count", series.New("m", &base, []series.Label{{Name: "c", Value: "3"}, {Name: "d", Value: "4"}}), reasonLabelCount, 7, ""},
		{"name of 12 bytes", labels("__name__", "m", "abcdefghijkl", "v"), "", 0, ""},
		{"name of 13 bytes", labels("__name__", "m", "abcdefghijklm", "v"), reasonLabelNameLength, 13, "abcdefghijklm"},
		{"value of 16 bytes", labels("__name__", "m", "a", "0123456789abcdef"), "", 0, ""},
		{"value of 17 bytes", labels("__name__", "m", "a", "0123456789abcdefg"), reasonLabelValueLength, 17, "a"},
		{"value of 16 bytes in 8 runes", labels("__name__", "m", "a", "éééééééé"), "", 0, ""},
		{"long value in the object labels", series.New("m", &[]series.Label{{Name: "pod", Value: strings.Repeat("p", 17)}}, nil), reasonLabelValueLength, 17, "pod"},
		{"metric name is a value", labels("__name__", "kube_pod_annotations"), reasonLabelValueLength, 20, "__name__"},
		{"name checked before value", labels("__name__", "m", "abcdefghijklm", strings.Repeat("v", 17)), reasonLabelNameLength, 13, "abcdefghijklm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, over := l.check(tc.ls)
			if over != (tc.reason != "") {
				t.Fatalf("over = %v (%+v), want %v", over, o, tc.reason != "")
			}
			if over && (o.reason != tc.reason || o.got != tc.got || o.label != tc.label) {
				t.Errorf("got %+v, want reason %s, got %d, label %q", o, tc.reason, tc.got, tc.label)
			}
		})
	}
}

func TestLabelLimiterNoLimits(t *testing.T) {
	m := newQueueMetrics(nil)
	if l := newLabelLimiter(LabelLimits{}, nil, m, nil); l != nil {
		t.Error("a limiter without limits")
	}
	// One limit alone: the others do not apply.
	l := newLabelLimiter(LabelLimits{MaxLabelValueLength: 4}, nil, m, slog.New(slog.DiscardHandler))
	many := []string{"__name__", "m"}
	for i := range 100 {
		many = append(many, fmt.Sprintf("%s_%03d", strings.Repeat("n", 300), i), "v")
	}
	if o, over := l.check(labels(many...)); over {
		t.Errorf("101 labels with long names over a value limit alone: %+v", o)
	}
	if _, over := l.check(labels("__name__", "m", "a", "12345")); !over {
		t.Error("a value of 5 bytes is not over a limit of 4")
	}
}

// An external label over a length limit makes every series without its own
// label of that name over the limit.
func TestLabelLimiterLongExternal(t *testing.T) {
	ext := []series.Label{{Name: "cluster", Value: strings.Repeat("c", 17)}}
	var logs syncBuffer
	l := newLabelLimiter(testLimits, ext, newQueueMetrics(nil), slog.New(slog.NewTextHandler(&logs, nil)))
	if o, over := l.check(labels("__name__", "m")); !over || o.reason != reasonLabelValueLength || o.label != "cluster" {
		t.Errorf("series without cluster: %+v, %v; want over the value length at cluster", o, over)
	}
	if o, over := l.check(labels("__name__", "m", "cluster", "own")); over {
		t.Errorf("series with its own cluster: over %+v", o)
	}
	if !strings.Contains(logs.String(), "label=cluster reason=label_value_length limit=16 got=17") {
		t.Errorf("no warning about the external label:\n%s", logs.String())
	}
}

// A batch mixing good series and series over each limit: exactly the bad ones
// are dropped (their staleness markers too) and counted by family and reason,
// the good ones all arrive in order, and each family and reason is logged
// once, in 1.0 and 2.0, whether the queue filters the caller's batch (a copy)
// or its own (after write_relabel_configs, in place).
func TestLabelLimitsDropOverLimitSeries(t *testing.T) {
	for _, msg := range []ProtobufMessage{MessageV1, MessageV2} {
		for _, transform := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/transform=%v", msg, transform), func(t *testing.T) {
				testLabelLimitsDrop(t, msg, transform)
			})
		}
	}
}

func testLabelLimitsDrop(t *testing.T, msg ProtobufMessage, transform bool) {
	ext := []series.Label{{Name: "cluster", Value: "prod"}}
	cfg := QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: msg, LabelLimits: testLimits, External: ext}
	if transform {
		// What the Relabeler does with external labels and no rule.
		cfg.External = nil
		cfg.Transform = func(ls series.Labels) (series.Labels, bool) {
			if ls.Get("cluster") != "" {
				return ls, true
			}
			pairs := []series.Label{{Name: "cluster", Value: "prod"}, {Name: series.MetricName, Value: ls.Name()}}
			for l := range ls.All() {
				if l.Name != series.MetricName {
					pairs = append(pairs, l)
				}
			}
			return series.FromPairs(pairs), true
		}
	}
	rcv := &receiver{t: t}
	var logs syncBuffer
	q, reg := startQueueLogging(t, rcv, cfg, slog.New(slog.NewTextHandler(&logs, nil)))

	// With cluster, 6 labels are the most.
	good := []series.Labels{
		labels("__name__", "kube_pod_info", "namespace", "ns", "pod", "p0"),
		labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p1", "label_app", "web", "label_tier", "fe"),
		labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p2", "label_abcdef", "0123456789abcdef"),
		labels("__name__", "kube_node_labels", "cluster", "own", "node", "n1", "label_a", "1", "label_b", "2", "label_c", "3"),
	}
	bad := []struct {
		ls             series.Labels
		family, reason string
	}{
		{labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p3", "label_app", "web", "label_tier", "fe", "label_team", "a"), "kube_pod_labels", reasonLabelCount},
		{labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p4", "label_app", "web", "label_tier", "fe", "label_env", "prod"), "kube_pod_labels", reasonLabelCount},
		{labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p5", "label_abcdefg", "x"), "kube_pod_labels", reasonLabelNameLength},
		{labels("__name__", "kube_pod_labels", "namespace", "ns", "pod", "p6", "label_app", "0123456789abcdefg"), "kube_pod_labels", reasonLabelValueLength},
		{labels("__name__", "kube_node_labels", "node", "n2", "label_a", "1", "label_b", "2", "label_c", "3", "label_d", "4"), "kube_node_labels", reasonLabelCount},
		{labels("__name__", "kube_pod_annotations", "namespace", "ns", "pod", "p7"), "kube_pod_annotations", reasonLabelValueLength},
	}
	// Good and bad interleaved, twice, then every series' staleness marker.
	var batch []series.Sample
	var want []series.Sample
	add := func(ls series.Labels, t int64, v float64, ok bool) {
		batch = append(batch, series.Sample{Labels: ls, T: t, V: v})
		if ok {
			want = append(want, batch[len(batch)-1])
		}
	}
	for round := range int64(2) {
		for i := range max(len(good), len(bad)) {
			if i < len(bad) {
				add(bad[i].ls, 1000*round+int64(i), 1, false)
			}
			if i < len(good) {
				add(good[i], 1000*round+int64(i), float64(i), true)
			}
		}
	}
	for i, b := range bad {
		add(b.ls, 5000+int64(i), series.StaleNaN, false)
	}
	for i, g := range good {
		add(g, 5000+int64(i), series.StaleNaN, true)
	}
	orig := slices.Clone(batch)
	write(t, q, batch)
	if !transform && !slices.EqualFunc(batch, orig, func(a, b series.Sample) bool {
		return a.Labels.Compare(b.Labels) == 0 && a.T == b.T && math.Float64bits(a.V) == math.Float64bits(b.V)
	}) {
		t.Error("the caller's batch was modified")
	}
	// A second batch: counted again, logged no more.
	write(t, q, []series.Sample{{Labels: bad[0].ls, T: 9000, V: 1}})

	var have []got
	if msg == MessageV2 {
		reqs, _ := rcv.requestsV2()
		have = samplesV2(t, reqs)
	} else {
		reqs, _ := rcv.requests()
		have = samplesV1(reqs)
	}
	// What arrives is the good samples, with cluster, each series' in the
	// order given.
	var wantGot []got
	for _, s := range want {
		ls := s.Labels
		if ls.Get("cluster") == "" {
			ls = series.FromPairs(append(slices.Collect(ls.All()), series.Label{Name: "cluster", Value: "prod"}))
		}
		wantGot = append(wantGot, render([]series.Sample{{Labels: ls, T: s.T, V: s.V}})...)
	}
	if len(have) != len(wantGot) {
		t.Errorf("received %d samples, want %d", len(have), len(wantGot))
	}
	sameSamples(t, wantGot, have)

	// Each bad series: 2 samples, its staleness marker; bad[0] once more.
	wantDropped := map[[2]string]float64{}
	byReason := map[string]float64{}
	for i, b := range bad {
		n := 3.0
		if i == 0 {
			n++
		}
		wantDropped[[2]string{b.family, b.reason}] += n
		byReason[b.reason] += n
	}
	gotDropped := map[[2]string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kube_state_push_remote_write_label_limit_samples_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			gotDropped[[2]string{lv["family"], lv["reason"]}] = m.GetCounter().GetValue()
		}
	}
	if fmt.Sprint(gotDropped) != fmt.Sprint(wantDropped) {
		t.Errorf("label_limit_samples_dropped_total by family and reason:\n got %v\nwant %v", gotDropped, wantDropped)
	}
	for reason, n := range byReason {
		if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", reason); got != n {
			t.Errorf("samples_dropped_total{reason=%s} = %v, want %v", reason, got, n)
		}
	}

	// One line per family and reason, with the figures and a hint.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for k := range wantDropped {
		n := 0
		for _, line := range lines {
			if strings.Contains(line, "family="+k[0]+" reason="+k[1]+" ") {
				n++
				if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "limit=") || !strings.Contains(line, "hint=") {
					t.Errorf("log line lacks the level, limit or hint: %s", line)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d log lines for family %s and reason %s, want 1:\n%s", n, k[0], k[1], logs.String())
		}
	}
	for _, want := range []string{
		"family=kube_pod_labels reason=label_count limit=6 labels=7 ",
		"family=kube_pod_labels reason=label_name_length limit=12 label=label_abcdefg bytes=13 ",
		"family=kube_pod_labels reason=label_value_length limit=16 label=label_app bytes=17 ",
		"family=kube_pod_annotations reason=label_value_length limit=16 label=__name__ bytes=20 ",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line with %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "0123456789abcdefg") {
		t.Error("a label value was logged")
	}
}

// BenchmarkLabelLimits measures the check of the default limits on the series
// of 1000 pods, none over a limit, with two external labels: ns per sample.
func BenchmarkLabelLimits(b *testing.B) {
	ss, _ := podWorkload(b, 1000)
	ext := []series.Label{{Name: "cluster", Value: "prod-eu-1"}, {Name: "region", Value: "eu-west-1"}}
	l := newLabelLimiter(agentLabelLimits, ext, newQueueMetrics(nil), slog.New(slog.DiscardHandler))
	b.ReportAllocs()
	for b.Loop() {
		if out := l.filter(ss, false); len(out) != len(ss) {
			b.Fatalf("%d of %d samples kept", len(out), len(ss))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ss)), "ns/sample")
}

// Families past maxLimitFamilies are counted together, so that rules that
// rename series cannot grow the counter without bound.
func TestLabelLimitFamiliesBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newQueueMetrics(reg)
	l := newLabelLimiter(testLimits, nil, m, slog.New(slog.DiscardHandler))
	o := overLimit{reason: reasonLabelCount, limit: 6, got: 7}
	for i := range maxLimitFamilies + 10 {
		l.drop(fmt.Sprintf("family_%04d", i), o)
	}
	l.drop("family_0000", o)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "kube_state_push_remote_write_label_limit_samples_dropped_total" {
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "family" {
						values[lp.GetValue()] = m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if len(values) != maxLimitFamilies+1 {
		t.Errorf("%d families, want %d", len(values), maxLimitFamilies+1)
	}
	if values[otherFamily] != 10 || values["family_0000"] != 2 {
		t.Errorf("%s = %v (want 10), family_0000 = %v (want 2)", otherFamily, values[otherFamily], values["family_0000"])
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", reasonLabelCount); got != maxLimitFamilies+11 {
		t.Errorf("samples_dropped_total{reason=label_count} = %v, want %d", got, maxLimitFamilies+11)
	}
}

// The limiter's verdict (the fast path, then the exact check) is that of the
// labels the encoder sends (eachLabel), on random series, external labels and
// limits.
func TestLabelLimiterMatchesEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	str := func(n int) string { return strings.Repeat("x", n) }
	names := []string{"a", "cluster", "pod", "zone", "namespace", "label_app_kubernetes_io_name"}
	pick := func(n int) []series.Label {
		var ls []series.Label
		for range n {
			name := names[rng.IntN(len(names))]
			if rng.IntN(4) == 0 {
				name += "_" + str(rng.IntN(12))
			}
			ls = append(ls, series.Label{Name: name, Value: str(1 + rng.IntN(20))})
		}
		return ls
	}
	m := newQueueMetrics(nil)
	checked, over := 0, 0
	for range 300 {
		limits := LabelLimits{MaxLabelNamesPerSeries: rng.IntN(9), MaxLabelNameLength: rng.IntN(40), MaxLabelValueLength: rng.IntN(24)}
		ext := series.FromPairs(pick(rng.IntN(3))).Extra()
		l := newLabelLimiter(limits, ext, m, slog.New(slog.DiscardHandler))
		if l == nil {
			continue
		}
		var okBase *[]series.Label // as filter keeps it, across series
		for range 50 {
			ls := series.FromPairs(append(pick(rng.IntN(7)), series.Label{Name: series.MetricName, Value: str(1 + rng.IntN(20))}))
			if rng.IntN(2) == 0 {
				// Some labels as the object's, shared.
				var base, extra []series.Label
				for _, x := range ls.Extra() {
					if rng.IntN(2) == 0 {
						base = append(base, x)
					} else {
						extra = append(extra, x)
					}
				}
				ls = series.New(ls.Name(), &base, extra)
			}
			n, long := 0, false
			eachLabel(ls, ext, func(x series.Label) {
				n++
				long = long ||
					limits.MaxLabelNameLength > 0 && len(x.Name) > limits.MaxLabelNameLength ||
					limits.MaxLabelValueLength > 0 && len(x.Value) > limits.MaxLabelValueLength
			})
			want := long || limits.MaxLabelNamesPerSeries > 0 && n > limits.MaxLabelNamesPerSeries
			got := !l.within(&ls, &okBase)
			if got {
				_, got = l.check(ls)
			}
			if got != want {
				t.Fatalf("limits %+v, external %v, series %s (%d labels as sent): over = %v, want %v", limits, ext, ls, n, got, want)
			}
			checked++
			if want {
				over++
			}
		}
	}
	if over == 0 || over == checked {
		t.Fatalf("%d of %d series over a limit: the cases do not cover both", over, checked)
	}
}

// The series of one object share its labels, which filter looks at once: a
// series of another object with long labels, and one with a long label of its
// own after its object's were found short, are still dropped.
func TestLabelLimiterSharedObjectLabels(t *testing.T) {
	l := newLabelLimiter(LabelLimits{MaxLabelValueLength: 8}, nil, newQueueMetrics(nil), slog.New(slog.DiscardHandler))
	short := []series.Label{{Name: "namespace", Value: "default"}, {Name: "pod", Value: "web-0"}}
	long := []series.Label{{Name: "namespace", Value: "default"}, {Name: "pod", Value: "web-0123456789"}}
	batch := []series.Sample{
		{Labels: series.New("a", &short, []series.Label{{Name: "c", Value: "x"}}), V: 1},
		{Labels: series.New("b", &short, nil), V: 2},
		{Labels: series.New("c", &long, nil), V: 3},
		{Labels: series.New("d", &short, []series.Label{{Name: "c", Value: "much-too-long"}}), V: 4},
		{Labels: series.New("e", &short, nil), V: 5},
	}
	var got []float64
	for _, s := range l.filter(batch, false) {
		got = append(got, s.V)
	}
	if want := []float64{1, 2, 5}; !slices.Equal(got, want) {
		t.Fatalf("kept the samples %v, want %v", got, want)
	}
}
