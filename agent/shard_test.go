package agent

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// The vectors of github.com/dgryski/go-jump, the jump hash kube-state-metrics
// uses.
func TestJumpHashVectors(t *testing.T) {
	// Buckets of keys for 1, 2, ... buckets, as the reference implementation
	// of the jump consistent hash paper gives them.
	for _, c := range []struct {
		key  uint64
		want []int
	}{
		{0, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{1, []int{0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17}},
		{0xdeadbeef, []int{0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16}},
		{0x0ddc0ffeebadf00d, []int{0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15}},
	} {
		for i, want := range c.want {
			if got := jumpHash(c.key, i+1); got != want {
				t.Errorf("jumpHash(%#x, %d) = %d, want %d", c.key, i+1, got, want)
			}
		}
	}
}

// fnv1a64 is FNV-1a 64 written from its definition, to check that shardOf
// hashes the UID's bytes with it.
func fnv1a64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func TestShardOfIsFNVThenJump(t *testing.T) {
	if got := fnv1a64(""); got != 0xcbf29ce484222325 {
		t.Fatalf("fnv1a64 reference is wrong: %#x", got)
	}
	if got := fnv1a64("a"); got != 0xaf63dc4c8601ec8c {
		t.Fatalf("fnv1a64 reference is wrong: %#x", got)
	}
	for _, uid := range []string{"", "a", "3f1c0e36-8f5b-4c1e-9d7e-2b1f0a9c4d11", "b7a1e4a2-05c3-4d7f-8a21-6c0de1f9e3b0"} {
		for _, n := range []int{1, 2, 3, 5, 16} {
			if got, want := shardOf(uid, n), jumpHash(fnv1a64(uid), n); got != want {
				t.Errorf("shardOf(%q, %d) = %d, want %d", uid, n, got, want)
			}
		}
	}
}

func randomUIDs(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	uids := make([]string, n)
	for i := range uids {
		uids[i] = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
	}
	return uids
}

// Every object belongs to exactly one shard, the shards are about even, and
// going from N to N+1 shards moves about 1/(N+1) of the objects, all of them
// to the new shard.
func TestShardProperties(t *testing.T) {
	uids := randomUIDs(20000)
	for n := 1; n <= 8; n++ {
		counts := make([]int, n)
		for _, uid := range uids {
			owners := 0
			for s := range n {
				if (assignment{shard: s, total: n}).owns(uid) {
					owners++
					counts[s]++
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
		moved := 0
		for _, uid := range uids {
			before, after := shardOf(uid, n), shardOf(uid, n+1)
			if before != after {
				moved++
				if after != n {
					t.Fatalf("%d→%d shards: %s moved from %d to %d, not to the new shard", n, n+1, uid, before, after)
				}
			}
		}
		share, want := float64(moved)/float64(len(uids)), 1/float64(n+1)
		t.Logf("%d→%d shards: %.3f of the objects moved (ideal %.3f)", n, n+1, share, want)
		if share < want*0.9 || share > want*1.1 {
			t.Errorf("%d→%d shards: %.3f of the objects moved, want about %.3f", n, n+1, share, want)
		}
	}
}

func testPod(name, uid string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(uid)}}
}

// Lists and watch events through the shard filter, over the fake clientset:
// each shard sees exactly its objects, bookmarks pass.
func TestShardListWatch(t *testing.T) {
	uids := randomUIDs(40)
	client := fake.NewClientset()
	ctx := context.Background()
	for i, uid := range uids[:30] {
		if _, err := client.CoreV1().Pods("ns").Create(ctx, testPod(fmt.Sprintf("p%d", i), uid), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	const total = 3
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return client.CoreV1().Pods("ns").List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return client.CoreV1().Pods("ns").Watch(ctx, o)
		},
	}
	var listed []string
	watches := make([]watch.Interface, total)
	for s := range total {
		a := assignment{shard: s, total: total}
		f := shardListWatch(lw, a, nil)
		obj, err := f.ListWithContextFunc(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range obj.(*v1.PodList).Items {
			if !a.owns(string(p.UID)) {
				t.Errorf("shard %d listed %s, not its own", s, p.UID)
			}
			listed = append(listed, string(p.UID))
		}
		if watches[s], err = f.WatchFuncWithContext(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		defer watches[s].Stop()
	}
	if slices.Sort(listed); !slices.Equal(listed, slices.Sorted(slices.Values(uids[:30]))) {
		t.Errorf("the shards' lists together hold %d objects, want each of the 30 once", len(listed))
	}

	// Watch events: adds, updates and deletes reach only the owning shard.
	for i, uid := range uids[30:] {
		p, err := client.CoreV1().Pods("ns").Create(ctx, testPod(fmt.Sprintf("q%d", i), uid), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Labels = map[string]string{"x": "y"}
		if _, err := client.CoreV1().Pods("ns").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := client.CoreV1().Pods("ns").Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string][]watch.EventType{}
	for s := range total {
		want := 0
		for _, uid := range uids[30:] {
			if shardOf(uid, total) == s {
				want += 3
			}
		}
		// The watch may start with the current objects (as the apiserver
		// does without a resourceVersion): they too must be the shard's own.
		deadline := time.After(5 * time.Second)
		for got := 0; got < want; {
			select {
			case e := <-watches[s].ResultChan():
				uid := string(e.Object.(*v1.Pod).UID)
				if shardOf(uid, total) != s {
					t.Errorf("shard %d got a %s event of %s, not its own", s, e.Type, uid)
				}
				if slices.Contains(uids[30:], uid) {
					seen[uid] = append(seen[uid], e.Type)
					got++
				}
			case <-deadline:
				t.Fatalf("shard %d: %d of %d events", s, got, want)
			}
		}
	}
	for _, uid := range uids[30:] {
		if got := seen[uid]; !slices.Equal(got, []watch.EventType{watch.Added, watch.Modified, watch.Deleted}) {
			t.Errorf("%s: events %v across the shards, want added, modified, deleted once", uid, got)
		}
	}

	// Bookmarks and errors pass whatever the shard.
	fw := watch.NewFake()
	raw := &cache.ListWatch{WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return fw, nil }}
	w, err := shardListWatch(raw, assignment{shard: 0, total: 2}, nil).WatchFuncWithContext(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	other := uids[0]
	for shardOf(other, 2) == 0 {
		other += "x"
	}
	go func() {
		fw.Add(testPod("other", other))
		fw.Action(watch.Bookmark, &v1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "7"}})
		fw.Error(&metav1.Status{Message: "gone"})
	}()
	for _, want := range []watch.EventType{watch.Bookmark, watch.Error} {
		select {
		case e := <-w.ResultChan():
			if e.Type != want {
				t.Errorf("event %s, want %s (the other shard's add is filtered)", e.Type, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", want)
		}
	}
}

// A running agent follows a change of the assignment: its watches restart with
// the new filter, the objects that left are handed over, and those gained are
// sent after the handover delay. Both partitions: jump hash, and hash ranges
// (where shard 1 also gains objects from 2 to 3 shards).
func TestRunWatchesReshard(t *testing.T) {
	for _, byRange := range []bool{false, true} {
		t.Run(fmt.Sprintf("byRange=%v", byRange), func(t *testing.T) { testRunWatchesReshard(t, byRange) })
	}
}

func testRunWatchesReshard(t *testing.T, byRange bool) {
	uids := randomUIDs(20)
	var objs []runtime.Object
	for i, uid := range uids {
		objs = append(objs, testPod(fmt.Sprintf("p%d", i), uid))
	}
	client := fake.NewClientset(objs...)
	rec := &lockedRecorder{}
	m := newMetrics(nil, nil)
	snap := snapshot.New(rec, nil)
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	gen := r.NewGenerator(collectors.Options{})
	store := newReflectorStore(snap, r, m, nil)
	lw := r.ListWatch(client, "")
	a := &agent{
		cfg: Config{ShardHandoverDelay: 300 * time.Millisecond}, logger: slog.New(slog.DiscardHandler), snap: snap,
		assign: assignment{shard: 1, total: 2, byRange: byRange}, reshard: make(chan struct{}, 1),
		shardMetrics: newShardMetrics(prometheus.NewRegistry()),
	}
	a.reflectors = []func(assignment) *cache.Reflector{func(as assignment) *cache.Reflector {
		return newObjectReflector(shardListWatch(lw, as, nil), client, gen, store, cache.ReflectorOptions{})
	}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.runWatches(ctx, ctx) })
	defer func() { cancel(); wg.Wait() }()

	phase := func() map[string]float64 { return rec.last("kube_pod_info") }
	owned := func(a assignment) int {
		n := 0
		for _, uid := range uids {
			if a.owns(uid) {
				n++
			}
		}
		return n
	}
	waitFor(t, "shard 1/2's objects", func() bool { return len(phase()) == owned(assignment{shard: 1, total: 2, byRange: byRange}) })

	// 2 → 3 shards: with jump hash shard 1 keeps or loses objects, gains none.
	a.wantShard(assignment{shard: 1, total: 3, byRange: byRange})
	waitFor(t, "the reshard", func() bool { return counterValue(t, a.shardMetrics.reshards) == 1 })
	if n := len(snapObjects(snap)); !byRange && n != owned(assignment{shard: 1, total: 3}) {
		t.Errorf("after 2→3, %d objects, want %d", n, owned(assignment{shard: 1, total: 3}))
	}
	waitFor(t, "shard 1/3's objects", func() bool {
		return len(snapObjects(snap)) == owned(assignment{shard: 1, total: 3, byRange: byRange})
	})
	for k, v := range phase() {
		if series.IsStaleNaN(v) {
			t.Errorf("%s ended with a staleness marker on a handover", k)
		}
	}

	// 3 → 2 shards: shard 1 gains objects, sent only after the delay.
	start := time.Now()
	a.wantShard(assignment{shard: 1, total: 2, byRange: byRange})
	waitFor(t, "the gained objects", func() bool { return len(snapObjects(snap)) == owned(assignment{shard: 1, total: 2, byRange: byRange}) })
	// The first samples of the gained objects are stamped after the delay.
	gained := map[string]bool{}
	for _, uid := range uids {
		if (assignment{shard: 1, total: 2, byRange: byRange}).owns(uid) && !(assignment{shard: 1, total: 3, byRange: byRange}).owns(uid) {
			gained[uid] = true
		}
	}
	first := func() map[string]int64 {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		out := map[string]int64{}
		for _, s := range rec.all {
			uid := s.Labels.Get("uid")
			if s.Labels.Get(series.MetricName) == "kube_pod_info" && gained[uid] && s.T >= start.UnixMilli() {
				if _, ok := out[uid]; !ok {
					out[uid] = s.T
				}
			}
		}
		return out
	}
	waitFor(t, "the release", func() bool { return len(first()) == len(gained) })
	for uid, ts := range first() {
		if d := time.Duration(ts-start.UnixMilli()) * time.Millisecond; d < 299*time.Millisecond {
			t.Errorf("gained object %s first sent %s after the reshard, before the delay of 300ms", uid, d)
		}
	}
	t.Logf("gained %d objects, first sent %v after the reshard", len(gained), func() []int64 {
		var ds []int64
		for _, ts := range first() {
			ds = append(ds, ts-start.UnixMilli())
		}
		return ds
	}())
}

func snapObjects(s *snapshot.Snapshot) []string {
	var out []string
	s.Each(func(uid string, _ series.Labels) {
		if !slices.Contains(out, uid) {
			out = append(out, uid)
		}
	})
	return out
}
