package customresource_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/customresource"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// The benchmarks of one custom resource: testdata/bench's Database with its
// config, 50 series per object, the same object and config as go run ./bench
// -crs on the cluster. The objects are unstructured with int64 integers, as
// the dynamic client decodes them.

// benchSeries is how many series the benchmark object gives, give or take
// benchSeriesSlack: the setup fails otherwise.
const (
	benchSeries      = 50
	benchSeriesSlack = 5
)

// benchGenerator compiles testdata/bench/config.yaml as the agent does
// (bound to the CRD's plural) and returns it with the object of
// testdata/bench/object.yaml.
func benchGenerator(b *testing.B) (*customresource.Generator, *unstructured.Unstructured) {
	b.Helper()
	dir := filepath.Join("testdata", "bench")
	data, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := customresource.Load("config.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	r, ok := cfg.Resources[0].Bind(cfg.Resources[0].GroupVersionKind, "databases")
	if !ok {
		b.Fatalf("%s does not bind", cfg.Resources[0].GroupVersionKind)
	}
	gen, err := customresource.NewGenerator(r, customresource.Options{
		OnError: func(resource, metric string, err error) { b.Fatalf("%s %s: %v", resource, metric, err) },
	})
	if err != nil {
		b.Fatal(err)
	}
	obj := readObject(b, filepath.Join(dir, "object.yaml"))
	o, ok := gen.Generate(obj)
	if !ok || len(o.Series) < benchSeries-benchSeriesSlack || len(o.Series) > benchSeries+benchSeriesSlack {
		b.Fatalf("the benchmark object gives %d series (ok %v), want %d±%d", len(o.Series), ok, benchSeries, benchSeriesSlack)
	}
	return gen, obj
}

// readObject reads a YAML object as the dynamic client decodes it from JSON.
func readObject(b *testing.B, path string) *unstructured.Unstructured {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		b.Fatal(err)
	}
	return u
}

// updated returns obj after a status update: replication lag, storage used and
// the last backup moved on (4 of its 50 values).
func updated(b *testing.B, obj *unstructured.Unstructured) *unstructured.Unstructured {
	b.Helper()
	u := obj.DeepCopy()
	for path, v := range map[string]any{
		"status.instances.orders-1.lagBytes": int64(12288),
		"status.instances.orders-2.lagBytes": int64(4096),
		"status.storageUsed.wal":             "1600Mi",
		"status.lastBackupTime":              "2026-12-04T03:00:09Z",
	} {
		if err := unstructured.SetNestedField(u.Object, v, splitPath(path)...); err != nil {
			b.Fatal(err)
		}
	}
	return u
}

// splitPath splits a dotted path whose keys hold no dots but may hold dashes.
func splitPath(p string) []string {
	var out []string
	start := 0
	for i := range len(p) {
		if p[i] == '.' {
			out, start = append(out, p[start:i]), i+1
		}
	}
	return append(out, p[start:])
}

// counting is a snapshot.Appender that counts the samples and drops them.
type counting struct{ n int }

func (c *counting) Append(ss []series.Sample) { c.n += len(ss) }

// BenchmarkUpdate measures one update event of a 50-series custom object:
// Generate alone, and Generate then the snapshot's Apply to a synced set, which
// is the agent's whole per-update path once the watch event is decoded
// (generateListWatch, then reflectorStore.Update). The object alternates
// between two statuses 4 values apart, its resourceVersion going up.
func BenchmarkUpdate(b *testing.B) {
	gen, obj := benchGenerator(b)
	objs := []*unstructured.Unstructured{obj, updated(b, obj)}
	b.Run("generate", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := objs[i%2]
			u.SetResourceVersion(strconv.Itoa(i + 2))
			if _, ok := gen.Generate(u); !ok {
				b.Fatal("not generated")
			}
			i++
		}
	})
	b.Run("generate+apply", func(b *testing.B) {
		out := &counting{}
		s := snapshot.New(out, nil)
		set := s.NewSet("databases.v1.bench.kube-state-push.io", nil)
		obj.SetResourceVersion("1")
		first, _ := gen.Generate(obj)
		s.Replace(set, []collectors.Object{first})
		out.n = 0
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := objs[(i+1)%2]
			u.SetResourceVersion(strconv.Itoa(i + 2))
			o, ok := gen.Generate(u)
			if !ok {
				b.Fatal("not generated")
			}
			s.Apply(set, o)
			i++
		}
		b.ReportMetric(float64(out.n)/float64(b.N), "samples/op")
	})
}

// BenchmarkHeapPerObject reports the heap the snapshot keeps per 50-series
// custom object once an initial list of heapObjects has been applied (after
// GC, the unstructured objects gone), next to what kube-state-metrics keeps
// for the same series by its design: their exposition text, one line per
// series and a slice per family.
func BenchmarkHeapPerObject(b *testing.B) {
	const heapObjects = 10000
	gen, obj := benchGenerator(b)
	var perObject, ksmPerObject, seriesPerObject float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := snapshot.New(&counting{}, nil)
		set := s.NewSet("databases.v1.bench.kube-state-push.io", nil)
		ksmBytes, nSeries := 0, 0
		for i := range heapObjects {
			o, _ := gen.Generate(benchObject(b, obj, i))
			ksmBytes += ksmTextBytes(o.Series)
			nSeries += len(o.Series)
			s.ApplyInitial(set, o)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perObject = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / heapObjects
		ksmPerObject = float64(ksmBytes) / heapObjects
		seriesPerObject = float64(nSeries) / heapObjects
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perObject, "B/object")
	b.ReportMetric(perObject/seriesPerObject, "B/series")
	b.ReportMetric(ksmPerObject, "ksm-text-B/object")
	b.ReportMetric(seriesPerObject, "series/object")
}

// benchObject is the i-th of a list of benchmark objects, as go run ./bench
// -crs creates them: its own name, namespace (one of 10) and uid, its
// instances named after it, and its own replication lags.
func benchObject(b *testing.B, obj *unstructured.Unstructured, i int) *unstructured.Unstructured {
	u := obj.DeepCopy()
	name := fmt.Sprintf("db-%05d", i)
	u.SetName(name)
	u.SetNamespace(fmt.Sprintf("bench-%d", i%10))
	u.SetUID(types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)))
	u.SetResourceVersion(strconv.Itoa(1000 + i))
	instances, _, err := unstructured.NestedMap(u.Object, "status", "instances")
	if err != nil {
		b.Fatal(err)
	}
	renamed := map[string]any{}
	for j := range len(instances) {
		in := instances[fmt.Sprintf("orders-%d", j)].(map[string]any)
		if j > 0 {
			in["lagBytes"] = int64((i + j) % 7 * 4096)
		}
		renamed[fmt.Sprintf("%s-%d", name, j)] = in
	}
	u.Object["status"].(map[string]any)["instances"] = renamed
	u.Object["status"].(map[string]any)["currentPrimary"] = name + "-0"
	return u
}

// ksmTextBytes is the size of the series as kube-state-metrics keeps them:
// one text line per series, a []byte header (24 bytes) per family.
func ksmTextBytes(ss []series.Series) int {
	n, families := 0, map[string]bool{}
	for _, s := range ss {
		n += len(s.String()) + 1
		families[s.Labels.Get(series.MetricName)] = true
	}
	return n + 24*len(families)
}
