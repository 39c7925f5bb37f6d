package agent

import (
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// Server-side sharding (--server-side-sharding).
//
// Since Kubernetes 1.36 a list or watch can ask the apiserver for one shard of
// the objects (KEP-5866, alpha: the apiserver's ShardedListAndWatch feature
// gate). The shardSelector option shardRange(object.metadata.uid, 'lo', 'hi')
// keeps the objects whose UID's FNV-1a 64 hash h is in [lo, hi), both 0x and
// 16 lowercase hex digits, except hi = 2⁶⁴ written '0x10000000000000000'. A
// list response echoes the selector it applied in metadata.shardInfo. The
// apiserver then sends, and the agent decodes, only the shard's objects.
//
// That partition is by hash range, not kube-state-metrics' jump hash. Shard i
// of n holds the hashes from ceil(i·2⁶⁴/n) to ceil((i+1)·2⁶⁴/n), that is the h
// with floor(h·n/2⁶⁴) = i. In this mode the agent uses it throughout
// (assignment.byRange): for the selector, for its own filter and for the
// handover of a reshard, so that they always agree. A reshard moves more
// objects than with jump hash (from 2 to 3 shards, a half rather than a
// third), each handed over by the same rule (sharding.go).
//
// The agent's own filter stays on: it drops nothing when the apiserver applied
// the selector, and the other shards' objects when it did not (the gate off,
// an apiserver older than 1.36 that ignores the option, or one of several
// apiservers with the gate off serving a watch), so the partition never
// depends on the apiserver. Whether the apiserver applied the selector is read
// from each list response's echo; a streaming list has no list response, so
// the watch that starts one is followed by a one-item list with the same
// selector, which tells. Lists of custom resources carry no echo (Kubernetes
// 1.37): for them a list of the shard's objects only tells (selectorApplied).
// An object of another shard in a list or a watch means not applied. kube_state_push_server_side_sharding{resource} is 1
// when the apiserver applied it, 0 when the agent filters; a resource's first
// fallback is logged.

// fullRange is the end of the last shard's range: 2⁶⁴.
const fullRange = "0x10000000000000000"

// rangeStart returns the first hash of shard i of n: ceil(i·2⁶⁴/n), for
// 0 <= i < n.
func rangeStart(i, n int) uint64 {
	q, r := bits.Div64(uint64(i), 0, uint64(n))
	if r != 0 {
		q++
	}
	return q
}

// rangeShardOf returns the shard of the object among total by hash range:
// floor(h·total/2⁶⁴), the i with rangeStart(i) <= h < rangeStart(i+1).
func rangeShardOf(uid string, total int) int { return rangeShardOfHash(uidHash(uid), total) }

func rangeShardOfHash(h uint64, total int) int {
	hi, _ := bits.Mul64(h, uint64(total))
	return int(hi)
}

// rangeEnd returns the end of shard i's range, written as the selector
// writes it.
func rangeEnd(i, n int) string {
	if i+1 >= n {
		return fullRange
	}
	return fmt.Sprintf("0x%016x", rangeStart(i+1, n))
}

// shardSelector returns the apiserver's shard selector of a's range, in the
// form the apiserver echoes, or "" when a does not partition by range, is not
// sharded or owns nothing (an ordinal being scaled away: no range is empty).
func (a assignment) shardSelector() string {
	if !a.byRange || !a.sharded() || a.shard >= a.total {
		return ""
	}
	return fmt.Sprintf("shardRange(object.metadata.uid, '0x%016x', '%s')", rangeStart(a.shard, a.total), rangeEnd(a.shard, a.total))
}

// serverSharding follows, for one resource, whether the apiserver applies the
// shard selector: the gauge (there from the first response), and the warning
// logged the first time it does not.
type serverSharding struct {
	resource string
	gauges   *prometheus.GaugeVec
	logger   *slog.Logger
	warned   atomic.Bool
}

func newServerSharding(resource string, m *metrics, logger *slog.Logger) *serverSharding {
	return &serverSharding{resource: resource, gauges: m.serverSharding, logger: logger}
}

// observe records whether a response showed the selector applied.
func (s *serverSharding) observe(applied bool) {
	g := s.gauges.WithLabelValues(s.resource)
	if applied {
		g.Set(1)
		return
	}
	g.Set(0)
	if !s.warned.Swap(true) {
		s.logger.Warn("The apiserver does not apply the shard selector (feature gate ShardedListAndWatch off, or older than Kubernetes 1.36): this shard's objects are filtered after they are received",
			"resource", s.resource)
	}
}

// shardAnswers is what the responses of one list/watch (one reflector) tell
// of the selector. An object of another shard, since the last list or
// watch started, overrules a list response that says it was applied (a
// one-item list after the watch of a streaming list may answer before or
// after the watch's first events).
type shardAnswers struct {
	srv     *serverSharding
	foreign atomic.Bool
}

// begin starts a list or a watch: its responses decide anew.
func (s *shardAnswers) begin() { s.foreign.Store(false) }

// sawForeign records an object of another shard: not applied.
func (s *shardAnswers) sawForeign() {
	s.foreign.Store(true)
	s.srv.observe(false)
}

// answered records what a list response tells.
func (s *shardAnswers) answered(applied bool) {
	if applied && s.foreign.Load() {
		return
	}
	s.srv.observe(applied)
}

// selectShard returns lw with a's shard selector sel on its lists and
// watches, and tells answers whether the apiserver applied it, from each
// list response (selectorApplied), or, after the watch of a streaming list,
// from a one-item list with the selector. The one-item list goes through
// lw's list (it is counted as a list), after the watch call, which has taken
// its options' reset (resumeCheck) already.
func selectShard(lw *cache.ListWatch, sel string, a assignment, answers *shardAnswers) *cache.ListWatch {
	list, watchFn := lw.ListWithContextFunc, lw.WatchFuncWithContext
	answer := func(obj runtime.Object) {
		if applied, known := selectorApplied(obj, sel, a); known {
			answers.answered(applied)
		}
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.ShardSelector = sel
			answers.begin()
			obj, err := list(ctx, o)
			if err == nil {
				answer(obj)
			}
			return obj, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.ShardSelector = sel
			streaming := o.SendInitialEvents != nil && *o.SendInitialEvents
			if streaming {
				answers.begin()
			}
			w, err := watchFn(ctx, o)
			if err != nil || !streaming {
				return w, err
			}
			if obj, err := list(ctx, metav1.ListOptions{ShardSelector: sel, Limit: 1}); err == nil {
				answer(obj)
			}
			return w, nil
		},
	}
}

// selectorApplied tells from a list response whether the apiserver applied
// sel, if it can. A typed list says so by its echo. A list of custom
// resources (unstructured) has no echo from Kubernetes 1.37, though the
// apiserver selects custom resources as well: without one, a list of
// objects that are all the shard's counts as applied (an empty one tells
// nothing). A wrong guess (a one-item list that happens to be the shard's)
// lasts until the first object of another shard.
func selectorApplied(list runtime.Object, sel string, a assignment) (applied, known bool) {
	if echo := echoedSelector(list); echo != "" {
		return echo == sel, true
	}
	if _, ok := list.(*unstructured.UnstructuredList); !ok {
		return false, true
	}
	items, err := meta.ExtractList(list)
	if err != nil || len(items) == 0 {
		return false, false
	}
	for _, it := range items {
		if !ownsObject(it, a) {
			return false, true
		}
	}
	return true, true
}

// echoedSelector returns the shard selector a list response says was applied
// (metadata.shardInfo.selector), "" if none: typed lists, and the dynamic
// client's unstructured ones.
func echoedSelector(list runtime.Object) string {
	switch l := list.(type) {
	case metav1.ShardedListInterface:
		if si := l.GetShardInfo(); si != nil {
			return si.Selector
		}
	case *unstructured.UnstructuredList:
		s, _, _ := unstructured.NestedString(l.Object, "metadata", "shardInfo", "selector")
		return s
	}
	return ""
}
