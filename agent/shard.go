package agent

import (
	"context"
	"fmt"
	"hash/fnv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// assignment is the shard this agent sends and the number of shards. An
// ordinal at or past the total (a StatefulSet pod being scaled away) owns
// nothing.
type assignment struct {
	shard, total int
	// byRange partitions the objects by contiguous ranges of their UID's hash,
	// as the apiserver's shard selector does (--server-side-sharding; see
	// shardrange.go), instead of by jump hash.
	byRange bool
}

func (a assignment) sharded() bool { return a.total != 1 || a.shard != 0 }

// owns reports whether the object with this UID belongs to the shard.
func (a assignment) owns(uid string) bool {
	if !a.sharded() {
		return true
	}
	if a.byRange {
		return rangeShardOf(uid, a.total) == a.shard
	}
	return shardOf(uid, a.total) == a.shard
}

// String is "shard/total", followed by " by hash range" for that partition
// (the WAL records it: a change of partition is a change of assignment).
func (a assignment) String() string {
	s := fmt.Sprintf("%d/%d", a.shard, a.total)
	if a.byRange && a.sharded() {
		s += " by hash range"
	}
	return s
}

// shardOf returns the shard of an object among total, as kube-state-metrics
// computes it: FNV-1a 64 of the UID's bytes, then jump consistent hash.
func shardOf(uid string, total int) int {
	return jumpHash(uidHash(uid), total)
}

// uidHash is FNV-1a 64 of the UID's bytes, the hash both partitions start
// from.
func uidHash(uid string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(uid)) // never fails
	return h.Sum64()
}

// jumpHash is Lamping and Veach's jump consistent hash ("A Fast, Minimal
// Memory, Consistent Hash Algorithm", 2014): it maps key to a bucket in
// [0, buckets), and when buckets grows by one, only about 1/buckets of the
// keys move, all of them to the new bucket.
func jumpHash(key uint64, buckets int) int {
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// shardListWatch keeps, from lw's lists and watch events, the objects a
// owns. Bookmarks and errors pass unchanged. With a hash-range partition it
// also asks the apiserver for the shard only (selectShard) and reports to srv
// whether the apiserver did so; the filter stays, for an apiserver that does
// not.
func shardListWatch(lw *cache.ListWatch, a assignment, srv *serverSharding) *cache.ListWatch {
	if !a.sharded() {
		return lw
	}
	sel := a.shardSelector()
	foreign := func() {}
	if sel != "" && srv != nil {
		answers := &shardAnswers{srv: srv}
		lw = selectShard(lw, sel, a, answers)
		foreign = answers.sawForeign
	}
	return mapListWatch(lw,
		func(obj runtime.Object) (runtime.Object, error) {
			dropped, err := filterList(obj, a)
			if dropped > 0 {
				foreign()
			}
			return obj, err
		},
		func(e watch.Event) (watch.Event, bool) {
			switch e.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				owned := ownsObject(e.Object, a)
				if !owned {
					foreign()
				}
				return e, owned
			}
			return e, true
		})
}

// mapListWatch returns lw with its list responses passed through list and its
// watch events through event (false drops one). Errors pass unchanged.
func mapListWatch(lw *cache.ListWatch, list func(runtime.Object) (runtime.Object, error),
	event func(watch.Event) (watch.Event, bool)) *cache.ListWatch {
	listFn, watchFn := lw.ListWithContextFunc, lw.WatchFuncWithContext
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			obj, err := listFn(ctx, o)
			if err != nil {
				return obj, err
			}
			return list(obj)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			w, err := watchFn(ctx, o)
			if err != nil {
				return w, err
			}
			return watch.Filter(w, event), nil
		},
	}
}

// filterList drops from the list the items a does not own, in place, and
// returns how many it dropped.
func filterList(list runtime.Object, a assignment) (int, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return 0, fmt.Errorf("shard filter: %w", err)
	}
	kept := items[:0]
	for _, it := range items {
		if ownsObject(it, a) {
			kept = append(kept, it)
		}
	}
	dropped := len(items) - len(kept)
	if dropped == 0 {
		return 0, nil
	}
	if err := meta.SetList(list, kept); err != nil {
		return dropped, fmt.Errorf("shard filter: %w", err)
	}
	return dropped, nil
}

// ownsObject keeps objects whose UID cannot be read: the store counts and
// drops them as invalid.
func ownsObject(obj runtime.Object, a assignment) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return true
	}
	return a.owns(string(m.GetUID()))
}
