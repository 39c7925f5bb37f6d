package agent

import (
	"context"
	"runtime"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
)

// BenchmarkListHeld reports the heap an initial list of pods holds until the
// reflector hands it to the store, per pod: the decoded objects, as client-go
// keeps them, against their stand-ins with series (generateListWatch).
func BenchmarkListHeld(b *testing.B) {
	const n = 2000
	list := &v1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}
	for i := range n {
		list.Items = append(list.Items, *fixtures.RealisticPod(i))
	}
	wire, err := list.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	decode := func(context.Context, metav1.ListOptions) (k8sruntime.Object, error) {
		var l v1.PodList
		return &l, l.Unmarshal(wire)
	}
	for _, c := range []struct {
		name string
		lw   *cache.ListWatch
	}{
		{"objects", &cache.ListWatch{ListWithContextFunc: decode}},
		{"generated", generateListWatch(&cache.ListWatch{ListWithContextFunc: decode}, gen, nil)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var perPod float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				held, err := c.lw.ListWithContext(context.Background(), metav1.ListOptions{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perPod = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(held)
			}
			b.ReportMetric(perPod, "held-B/pod")
		})
	}
}
