package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// selectorPattern is the apiserver's syntax of one shard range with our
// field: both bounds 0x and 16 lowercase hex digits, or the end 2⁶⁴.
var selectorPattern = regexp.MustCompile(`^shardRange\(object\.metadata\.uid, '0x([0-9a-f]{16})', '0x([0-9a-f]{16}|10000000000000000)'\)$`)

// selectorRange parses a's selector into [lo, hi); last is set when hi is
// 2⁶⁴ (which does not fit a uint64).
func selectorRange(t *testing.T, a assignment) (lo, hi uint64, last bool) {
	t.Helper()
	m := selectorPattern.FindStringSubmatch(a.shardSelector())
	if m == nil {
		t.Fatalf("%v: selector %q is not in the apiserver's syntax", a, a.shardSelector())
	}
	lo, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if m[2] == "10000000000000000" {
		return lo, 0, true
	}
	if hi, err = strconv.ParseUint(m[2], 16, 64); err != nil {
		t.Fatal(err)
	}
	return lo, hi, false
}

// inRange is the apiserver's test of a hash against a shard range.
func inRange(h, lo, hi uint64, last bool) bool { return h >= lo && (last || h < hi) }

// With the hash-range partition, every UID belongs to exactly one shard for
// any total, the one whose selector range holds its hash, and the shards are
// about even.
func TestRangePartitionProperties(t *testing.T) {
	uids := randomUIDs(20000)
	for n := 1; n <= 16; n++ {
		counts := make([]int, n)
		for _, uid := range uids {
			owners := 0
			for s := range n {
				a := assignment{shard: s, total: n, byRange: true}
				if !a.owns(uid) {
					continue
				}
				owners++
				counts[s]++
				if n > 1 {
					if lo, hi, last := selectorRange(t, a); !inRange(uidHash(uid), lo, hi, last) {
						t.Fatalf("%s owned by %v, but its hash %#x is outside the selector %s", uid, a, uidHash(uid), a.shardSelector())
					}
				}
			}
			if owners != 1 {
				t.Fatalf("%s owned by %d of %d shards", uid, owners, n)
			}
		}
		for s, c := range counts {
			if want := len(uids) / n; c < want*9/10 || c > want*11/10 {
				t.Errorf("%d shards: shard %d holds %d objects, want about %d", n, s, c, want)
			}
		}
	}
}

// The selectors of the shards of a total tile the hash space: the first
// starts at 0, each starts where the one before ends, the last ends at 2⁶⁴,
// and they are equal to within one hash. A hash at a range's start belongs to
// that shard, one below it to the shard before.
func TestRangeBoundaries(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	totals := []int{2, 3, 4, 5, 7, 10, 64, 1000, 1 << 20}
	for range 20 {
		totals = append(totals, 2+r.IntN(1<<16))
	}
	for _, n := range totals {
		var prevEnd uint64
		for s := range n {
			a := assignment{shard: s, total: n, byRange: true}
			lo, hi, last := selectorRange(t, a)
			if lo != prevEnd {
				t.Fatalf("%v starts at %#x, the shard before ends at %#x", a, lo, prevEnd)
			}
			if last != (s == n-1) {
				t.Fatalf("%v: ends at 2^64 = %v", a, last)
			}
			size := hi - lo // 2^64 - lo when last, in uint64 arithmetic
			if ideal := math.Ldexp(1, 64) / float64(n); math.Abs(float64(size)-ideal) > 1+ideal*1e-15 {
				t.Fatalf("%v holds %d hashes, want %.0f", a, size, ideal)
			}
			if got := rangeShardOfHash(lo, n); got != s {
				t.Fatalf("%d shards: hash %#x, the start of shard %d, belongs to %d", n, lo, s, got)
			}
			if s > 0 {
				if got := rangeShardOfHash(lo-1, n); got != s-1 {
					t.Fatalf("%d shards: hash %#x, just below shard %d, belongs to %d", n, lo-1, s, got)
				}
			}
			prevEnd = hi
			if n > 64 && s == 2 { // the middle of a large total: enough
				break
			}
		}
		if got := rangeShardOfHash(math.MaxUint64, n); got != n-1 {
			t.Errorf("%d shards: the last hash belongs to %d", n, got)
		}
		if got := rangeShardOfHash(0, n); got != 0 {
			t.Errorf("%d shards: hash 0 belongs to %d", n, got)
		}
	}
}

// The selector of each shard, as the apiserver documents the splits in 2 and
// 4, and none where there is no range to ask for.
func TestShardSelector(t *testing.T) {
	for _, c := range []struct {
		a    assignment
		want string
	}{
		{assignment{shard: 0, total: 2, byRange: true}, "shardRange(object.metadata.uid, '0x0000000000000000', '0x8000000000000000')"},
		{assignment{shard: 1, total: 2, byRange: true}, "shardRange(object.metadata.uid, '0x8000000000000000', '0x10000000000000000')"},
		{assignment{shard: 0, total: 4, byRange: true}, "shardRange(object.metadata.uid, '0x0000000000000000', '0x4000000000000000')"},
		{assignment{shard: 1, total: 4, byRange: true}, "shardRange(object.metadata.uid, '0x4000000000000000', '0x8000000000000000')"},
		{assignment{shard: 2, total: 4, byRange: true}, "shardRange(object.metadata.uid, '0x8000000000000000', '0xc000000000000000')"},
		{assignment{shard: 3, total: 4, byRange: true}, "shardRange(object.metadata.uid, '0xc000000000000000', '0x10000000000000000')"},
		// 2^64 = 3·0x5555555555555555 + 1: the starts round up.
		{assignment{shard: 0, total: 3, byRange: true}, "shardRange(object.metadata.uid, '0x0000000000000000', '0x5555555555555556')"},
		{assignment{shard: 1, total: 3, byRange: true}, "shardRange(object.metadata.uid, '0x5555555555555556', '0xaaaaaaaaaaaaaaab')"},
		{assignment{shard: 2, total: 3, byRange: true}, "shardRange(object.metadata.uid, '0xaaaaaaaaaaaaaaab', '0x10000000000000000')"},
		{assignment{shard: 0, total: 1, byRange: true}, ""}, // everything: no selector
		{assignment{shard: 3, total: 3, byRange: true}, ""}, // an ordinal scaled away owns nothing
		{assignment{shard: 0, total: 2}, ""},                // jump hash
	} {
		if got := c.a.shardSelector(); got != c.want {
			t.Errorf("%v: selector %q, want %q", c.a, got, c.want)
		}
	}
	if a, b := (assignment{shard: 0, total: 3}).String(), (assignment{shard: 0, total: 3, byRange: true}).String(); a == b {
		t.Errorf("the two partitions of 0/3 are both %q: the WAL would not tell them apart", a)
	}
	if a, b := (assignment{shard: 0, total: 1}).String(), (assignment{shard: 0, total: 1, byRange: true}).String(); a != b {
		t.Errorf("unsharded, the partitions differ in name (%q, %q) though both own everything", a, b)
	}
}

// shardAPI is an apiserver for the shard selector: with applies, it keeps
// the objects of the selector's range and echoes it; without, it ignores it
// (the feature gate off). It records the options of every call.
type shardAPI struct {
	mu           sync.Mutex
	applies      bool
	uids         []string
	lists, watch []metav1.ListOptions
	events       *watch.FakeWatcher
}

func (f *shardAPI) matches(sel, uid string) bool {
	m := selectorPattern.FindStringSubmatch(sel)
	if m == nil {
		return true
	}
	lo, _ := strconv.ParseUint(m[1], 16, 64)
	hi, err := strconv.ParseUint(m[2], 16, 64)
	return inRange(uidHash(uid), lo, hi, err != nil)
}

func (f *shardAPI) listWatch() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(_ context.Context, o metav1.ListOptions) (runtime.Object, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.lists = append(f.lists, o)
			l := &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "5"}}
			for i, uid := range f.uids {
				if !f.applies || f.matches(o.ShardSelector, uid) {
					l.Items = append(l.Items, *testPod(fmt.Sprintf("p%d", i), uid))
				}
			}
			if f.applies && o.ShardSelector != "" {
				l.ShardInfo = &metav1.ShardInfo{Selector: o.ShardSelector}
			}
			return l, nil
		},
		WatchFuncWithContext: func(_ context.Context, o metav1.ListOptions) (watch.Interface, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.watch = append(f.watch, o)
			return f.events, nil
		},
	}
}

func newTestServerSharding() (*serverSharding, *metrics, *bytes.Buffer) {
	m := newMetrics(nil, nil)
	var logs bytes.Buffer
	return newServerSharding("pods", m, slog.New(slog.NewTextHandler(&logs, nil))), m, &logs
}

// With an apiserver that applies the selector, the lists and watches carry
// it, the gauge is 1, and nothing is logged; with one that ignores it, the
// gauge is 0, the shard's objects are filtered here all the same, and the
// fallback is logged once.
func TestServerSideShardingDetection(t *testing.T) {
	uids := randomUIDs(60)
	a := assignment{shard: 1, total: 3, byRange: true}
	for _, applies := range []bool{true, false} {
		t.Run(fmt.Sprintf("applies=%v", applies), func(t *testing.T) {
			api := &shardAPI{applies: applies, uids: uids, events: watch.NewFake()}
			srv, m, logs := newTestServerSharding()
			lw := shardListWatch(api.listWatch(), a, srv)
			ctx := context.Background()
			for range 2 { // two lists: the warning is logged once
				obj, err := lw.ListWithContextFunc(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := 0
				for _, p := range obj.(*v1.PodList).Items {
					if !a.owns(string(p.UID)) {
						t.Errorf("listed %s, not shard %v's", p.UID, a)
					}
					got++
				}
				want := 0
				for _, uid := range uids {
					if a.owns(uid) {
						want++
					}
				}
				if got != want {
					t.Errorf("listed %d objects, the shard has %d", got, want)
				}
			}
			for _, o := range api.lists {
				if o.ShardSelector != a.shardSelector() {
					t.Errorf("list with shard selector %q, want %q", o.ShardSelector, a.shardSelector())
				}
			}
			wantGauge := map[bool]float64{true: 1, false: 0}[applies]
			if v := testutil.ToFloat64(m.serverSharding.WithLabelValues("pods")); v != wantGauge {
				t.Errorf("kube_state_push_server_side_sharding = %v, want %v", v, wantGauge)
			}
			if n := strings.Count(logs.String(), "does not apply the shard selector"); n != map[bool]int{true: 0, false: 1}[applies] {
				t.Errorf("fallback logged %d times:\n%s", n, logs.String())
			}
		})
	}
}

// A streaming list has no list response: the watch that starts it is
// followed by a one-item list with the selector, whose echo tells. Without
// the echo the gauge is 0.
func TestServerSideShardingStreamingProbe(t *testing.T) {
	a := assignment{shard: 0, total: 2, byRange: true}
	for _, applies := range []bool{true, false} {
		api := &shardAPI{applies: applies, uids: randomUIDs(4), events: watch.NewFake()}
		srv, m, _ := newTestServerSharding()
		lw := shardListWatch(api.listWatch(), a, srv)
		yes := true
		w, err := lw.WatchFuncWithContext(context.Background(), metav1.ListOptions{SendInitialEvents: &yes, AllowWatchBookmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		w.Stop()
		if len(api.watch) != 1 || api.watch[0].ShardSelector != a.shardSelector() {
			t.Errorf("applies=%v: watches %+v, want one with the shard selector", applies, api.watch)
		}
		if len(api.lists) != 1 || api.lists[0].Limit != 1 || api.lists[0].ShardSelector != a.shardSelector() {
			t.Errorf("applies=%v: lists %+v, want one one-item list with the shard selector", applies, api.lists)
		}
		if v, want := testutil.ToFloat64(m.serverSharding.WithLabelValues("pods")), map[bool]float64{true: 1, false: 0}[applies]; v != want {
			t.Errorf("applies=%v: gauge %v, want %v", applies, v, want)
		}
	}

	// A watch that resumes makes no probe.
	api := &shardAPI{applies: true, events: watch.NewFake()}
	srv, _, _ := newTestServerSharding()
	if _, err := shardListWatch(api.listWatch(), a, srv).WatchFuncWithContext(context.Background(), metav1.ListOptions{ResourceVersion: "5"}); err != nil {
		t.Fatal(err)
	}
	if len(api.lists) != 0 {
		t.Errorf("a resumed watch listed: %+v", api.lists)
	}
}

// An object of another shard in a watch, where the list showed the selector
// applied (one apiserver of several without the gate), is filtered and sets
// the gauge to 0.
func TestServerSideShardingForeignWatchEvent(t *testing.T) {
	a := assignment{shard: 0, total: 2, byRange: true}
	api := &shardAPI{applies: true, events: watch.NewFake()}
	srv, m, logs := newTestServerSharding()
	lw := shardListWatch(api.listWatch(), a, srv)
	if _, err := lw.ListWithContextFunc(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	gauge := m.serverSharding.WithLabelValues("pods")
	if v := testutil.ToFloat64(gauge); v != 1 {
		t.Fatalf("gauge %v after a list with the echo", v)
	}
	w, err := lw.WatchFuncWithContext(context.Background(), metav1.ListOptions{ResourceVersion: "5"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	mine, other := "mine", "other"
	for !a.owns(mine) {
		mine += "x"
	}
	for a.owns(other) {
		other += "x"
	}
	go func() {
		api.events.Add(testPod("other", other))
		api.events.Add(testPod("mine", mine))
	}()
	select {
	case e := <-w.ResultChan():
		if uid := string(e.Object.(*v1.Pod).UID); uid != mine {
			t.Errorf("got %s, want only the shard's object", uid)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	if v := testutil.ToFloat64(gauge); v != 0 {
		t.Errorf("gauge %v after another shard's object, want 0", v)
	}
	if !strings.Contains(logs.String(), "does not apply the shard selector") {
		t.Errorf("no warning: %s", logs.String())
	}
}

// Without --server-side-sharding, nothing changes: no selector, jump hash.
func TestJumpHashShardingSendsNoSelector(t *testing.T) {
	api := &shardAPI{applies: true, uids: randomUIDs(30), events: watch.NewFake()}
	srv, m, _ := newTestServerSharding()
	a := assignment{shard: 1, total: 3}
	obj, err := shardListWatch(api.listWatch(), a, srv).ListWithContextFunc(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if api.lists[0].ShardSelector != "" {
		t.Errorf("selector %q sent", api.lists[0].ShardSelector)
	}
	for _, p := range obj.(*v1.PodList).Items {
		if shardOf(string(p.UID), 3) != 1 {
			t.Errorf("%s is not jump hash shard 1", p.UID)
		}
	}
	if n := testutil.CollectAndCount(m.serverSharding); n != 0 {
		t.Errorf("%d server-side sharding gauges without the mode", n)
	}
}

// The echo is read from typed lists and from the dynamic client's
// unstructured ones.
func TestEchoedSelector(t *testing.T) {
	sel := "shardRange(object.metadata.uid, '0x0000000000000000', '0x8000000000000000')"
	u := &unstructured.UnstructuredList{Object: map[string]any{
		"metadata": map[string]any{"resourceVersion": "3", "shardInfo": map[string]any{"selector": sel}},
	}}
	for _, c := range []struct {
		list runtime.Object
		want string
	}{
		{&v1.PodList{ListMeta: metav1.ListMeta{ShardInfo: &metav1.ShardInfo{Selector: sel}}}, sel},
		{&v1.PodList{}, ""},
		{u, sel},
		{&unstructured.UnstructuredList{Object: map[string]any{"metadata": map[string]any{}}}, ""},
	} {
		if got := echoedSelector(c.list); got != c.want {
			t.Errorf("%T: echo %q, want %q", c.list, got, c.want)
		}
	}
}

// Lists of custom resources carry no echo (Kubernetes 1.37): one of the
// shard's objects only counts as applied, one with another shard's object
// as not, an empty one tells nothing. A typed list without the echo is not
// applied, whatever it holds.
func TestSelectorAppliedWithoutEcho(t *testing.T) {
	a := assignment{shard: 0, total: 2, byRange: true}
	sel := a.shardSelector()
	mine, other := "mine", "other"
	for !a.owns(mine) {
		mine += "x"
	}
	for a.owns(other) {
		other += "x"
	}
	crs := func(uids ...string) *unstructured.UnstructuredList {
		l := &unstructured.UnstructuredList{Object: map[string]any{"metadata": map[string]any{}}}
		for _, uid := range uids {
			l.Items = append(l.Items, unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": map[string]any{"name": uid, "uid": uid}}})
		}
		return l
	}
	echoed := crs(other)
	echoed.Object["metadata"] = map[string]any{"shardInfo": map[string]any{"selector": sel}}
	for _, c := range []struct {
		name           string
		list           runtime.Object
		applied, known bool
	}{
		{"custom resources of the shard", crs(mine, mine+"y"), true, true},
		{"custom resources of both shards", crs(mine, other), false, true},
		{"no custom resources", crs(), false, false},
		{"custom resources with the echo", echoed, true, true},
		{"typed, no echo", &v1.PodList{Items: []v1.Pod{*testPod("p", mine)}}, false, true},
		{"typed, another selector echoed", &v1.PodList{ListMeta: metav1.ListMeta{ShardInfo: &metav1.ShardInfo{Selector: "x"}}}, false, true},
	} {
		if applied, known := selectorApplied(c.list, sel, a); applied != c.applied || known != c.known {
			t.Errorf("%s: applied %v (known %v), want %v (%v)", c.name, applied, known, c.applied, c.known)
		}
	}
}

// An object of another shard since the list or watch began overrules a list
// response that says applied, in whichever order they come.
func TestShardAnswersForeignWins(t *testing.T) {
	srv, m, _ := newTestServerSharding()
	gauge := func() float64 { return testutil.ToFloat64(m.serverSharding.WithLabelValues("pods")) }
	s := &shardAnswers{srv: srv}
	s.begin()
	s.sawForeign()
	s.answered(true)
	if v := gauge(); v != 0 {
		t.Errorf("foreign, then applied: %v, want 0", v)
	}
	s.begin()
	s.answered(true)
	if v := gauge(); v != 1 {
		t.Errorf("a new watch, applied: %v, want 1", v)
	}
	s.sawForeign()
	if v := gauge(); v != 0 {
		t.Errorf("applied, then foreign: %v, want 0", v)
	}
}
