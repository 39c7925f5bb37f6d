package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// The -crs mode: kube-state-metrics and kube-state-push with the same
// CustomResourceStateMetrics config on the same N custom objects, one after
// the other, each started once every object exists: how long and how much CPU
// each takes to list them and hold every object's series, its peak RSS until
// then, and its RSS once settled. The CRD, the config and the object are
// customresource/testdata/bench's (a Database, 50 series per object), those
// of the package's benchmarks. kube-state-push pushes to the cluster's
// Prometheus, its resends an hour apart; kube-state-metrics is not scraped.

// crsData is where the CRD, the config and the object are.
const crsData = "customresource/testdata/bench"

// crsFamily is the config's first family, one series per object: both write
// it first, so that a probe reads it and hangs up.
const crsFamily = "database_info"

const (
	crsSteadyWindow = 20 * time.Second // RSS samples, every 2 s, after settle
	crsCreators     = 16               // parallel creates
)

var (
	crdGVR      = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	databaseGVR = schema.GroupVersionResource{Group: "bench.kube-state-push.io", Version: "v1", Resource: "databases"}
)

// crsSide is one exporter of the -crs mode.
type crsSide struct {
	name      string
	short     string // for file names
	start     func(tag string) (*proc, error)
	metrics   string // its /metrics URL once started
	telemetry string // URL of its own metrics (go_memstats_*)
	pprof     string // base URL of its net/http/pprof
}

// crsResult is what one side measured at one scale.
type crsResult struct {
	name             string
	objects, series  int // lines of crsFamily, and all sample lines of /metrics, when settled
	syncTime         time.Duration
	syncCPU          time.Duration
	syncAlloc        float64 // bytes allocated until synced (go_memstats_alloc_bytes_total)
	syncPeak         int64   // VmHWM when synced
	runPeak          int64   // VmHWM after the steady window
	steadyRSS        int64   // mean over the steady window
	steadyHeapInuse  float64 // go_memstats_heap_inuse_bytes after the steady window
	liveHeap         float64 // go_memstats_heap_alloc_bytes right after a forced GC, then
	afterGCRSS       int64   // RSS settle after that GC
	steadyCPUPerSec  float64 // over the steady window
	firstObjectAfter time.Duration
}

func (b *bench) runCRS(ctx context.Context) error {
	dyn, err := b.dynamicClient()
	if err != nil {
		return err
	}
	tmpl, err := readYAMLObject(filepath.Join(b.opts.root, crsData, "object.yaml"))
	if err != nil {
		return err
	}
	if err := b.installCRD(ctx, dyn); err != nil {
		return err
	}
	if err := ensureNamespaces(ctx, b.client); err != nil {
		return err
	}
	var results [][]crsResult
	created := 0
	for _, n := range b.opts.scales {
		b.log.Info("Creating custom objects", "from", created, "to", n)
		t0 := time.Now()
		if err := createDatabases(ctx, dyn, tmpl, created, n); err != nil {
			return fmt.Errorf("create objects: %w", err)
		}
		b.log.Info("Created", "objects", n, "after", time.Since(t0).Round(time.Second))
		created = n
		var rs []crsResult
		for _, s := range []*crsSide{b.crsKSM(), b.crsKSP()} {
			r, err := b.measureCRS(ctx, s, n)
			if err != nil {
				return fmt.Errorf("%s at N=%d: %w", s.name, n, err)
			}
			rs = append(rs, r)
		}
		results = append(results, rs)
		fmt.Println(crsTable(n, rs))
	}
	if b.opts.out == "" {
		return nil
	}
	return crsMarks.write(b.opts.out, crsMarkdown(b.opts, results))
}

// dynamicClient is a client of the cluster fast enough to create thousands
// of objects in seconds.
func (b *bench) dynamicClient() (dynamic.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", b.kubecfg)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 5000, 5000
	return dynamic.NewForConfig(rc)
}

// readYAMLObject reads one object as the dynamic client decodes it (integers
// int64).
func readYAMLObject(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// installCRD creates the Database CRD and waits until its objects can be
// created.
func (b *bench) installCRD(ctx context.Context, dyn dynamic.Interface) error {
	crd, err := readYAMLObject(filepath.Join(b.opts.root, crsData, "crd.yaml"))
	if err != nil {
		return err
	}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("create CRD: %w", err)
	}
	b.log.Info("Waiting for the CRD", "name", crd.GetName())
	return poll(ctx, 500*time.Millisecond, time.Minute, func() (bool, error) {
		_, err := dyn.Resource(databaseGVR).Namespace(benchNS(0)).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
}

// databaseObject is the i-th benchmark object, as customresource's
// benchmarks make it: its own name and namespace, its instances named after
// it, its own replication lags.
func databaseObject(tmpl *unstructured.Unstructured, i int) *unstructured.Unstructured {
	u := tmpl.DeepCopy()
	name := fmt.Sprintf("db-%05d", i)
	u.SetName(name)
	u.SetNamespace(benchNS(i))
	u.SetUID("")
	u.SetResourceVersion("")
	u.SetCreationTimestamp(metav1.Time{})
	status := u.Object["status"].(map[string]any)
	instances := status["instances"].(map[string]any)
	renamed := map[string]any{}
	for j := range len(instances) {
		in := instances[fmt.Sprintf("orders-%d", j)].(map[string]any)
		if j > 0 {
			in["lagBytes"] = int64((i + j) % 7 * 4096)
		}
		renamed[fmt.Sprintf("%s-%d", name, j)] = in
	}
	status["instances"], status["currentPrimary"] = renamed, name+"-0"
	return u
}

// createDatabases creates objects from up to n (those there already stay), in
// parallel.
func createDatabases(ctx context.Context, dyn dynamic.Interface, tmpl *unstructured.Unstructured, from, n int) error {
	next := make(chan int)
	errs := make(chan error, crsCreators)
	var wg sync.WaitGroup
	for range crsCreators {
		wg.Go(func() {
			for i := range next {
				u := databaseObject(tmpl, i)
				_, err := dyn.Resource(databaseGVR).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
				if err = ignoreExists(err); err != nil {
					errs <- fmt.Errorf("%s/%s: %w", u.GetNamespace(), u.GetName(), err)
					return
				}
			}
		})
	}
	var err error
feed:
	for i := from; i < n; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// crsConfig is the path of the config both sides read.
func (b *bench) crsConfig() string { return filepath.Join(b.opts.root, crsData, "config.yaml") }

// crsKSM runs kube-state-metrics for the custom resources only.
func (b *bench) crsKSM() *crsSide {
	s := &crsSide{name: "kube-state-metrics", short: "ksm"}
	s.start = func(tag string) (*proc, error) {
		port, tport, err := freePorts2()
		if err != nil {
			return nil, err
		}
		s.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
		s.telemetry = fmt.Sprintf("http://127.0.0.1:%d/metrics", tport)
		s.pprof = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", tport)
		return startProc(s.name, b.logPath("crs-ksm-"+tag), filepath.Join(b.cacheBin, "kube-state-metrics-"+ksmVersion),
			"--kubeconfig", b.kubecfg, "--host", "127.0.0.1", fmt.Sprintf("--port=%d", port),
			"--telemetry-host", "127.0.0.1", fmt.Sprintf("--telemetry-port=%d", tport),
			"--custom-resource-state-only", "--custom-resource-state-config-file", b.crsConfig())
	}
	return s
}

// crsKSP runs kube-state-push for the custom resources only, pushing to the
// cluster's Prometheus with its resends an hour apart, serving /metrics too.
func (b *bench) crsKSP() *crsSide {
	s := &crsSide{name: "kube-state-push", short: "ksp"}
	s.start = func(tag string) (*proc, error) {
		port, tport, err := freePorts2()
		if err != nil {
			return nil, err
		}
		s.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
		s.telemetry = fmt.Sprintf("http://127.0.0.1:%d/metrics", tport)
		s.pprof = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", tport)
		return startProc(s.name, b.logPath("crs-ksp-"+tag), b.agentBin, "--kubeconfig", b.kubecfg,
			"--remote-write-url", b.promURL+"/api/v1/write", "--resend-interval", "1h",
			"--telemetry-address", fmt.Sprintf("127.0.0.1:%d", tport), "--enable-pprof",
			"--metrics-address", fmt.Sprintf("127.0.0.1:%d", port),
			"--custom-resource-state-only", "--custom-resource-state-config-file", b.crsConfig())
	}
	return s
}

func freePorts2() (int, int, error) {
	a, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	b, err := freePort()
	return a, b, err
}

// measureCRS starts s, waits until it serves n objects' series, lets it
// settle and measures it steady; then it stops s.
func (b *bench) measureCRS(ctx context.Context, s *crsSide, n int) (crsResult, error) {
	r := crsResult{name: s.name}
	tag := fmt.Sprint(n)
	t0 := time.Now()
	p, err := s.start(tag)
	if err != nil {
		return r, err
	}
	b.running = group{p}
	defer b.stopSide()
	b.log.Info("Started; waiting until every object's series are served", "side", s.name, "objects", n)
	profiling := false
	if err := poll(ctx, time.Second, 20*time.Minute, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		got, _, err := countExposition(ctx, s.metrics, crsFamily, true)
		if err != nil {
			return false, nil // not listening yet
		}
		if !profiling {
			// Where the CPU to sync goes: the first 30 s after it listens.
			profiling = true
			go b.saveProfile(ctx, s.pprof+"/profile?seconds=30", "crs-"+tag+"-"+s.short+"-sync-cpu.pprof")
		}
		if got > 0 && r.firstObjectAfter == 0 {
			r.firstObjectAfter = time.Since(t0)
		}
		return got >= n, nil
	}); err != nil {
		return r, fmt.Errorf("sync: %w (log %s)", err, p.log.Name())
	}
	r.syncTime = time.Since(t0)
	u, err := p.usage()
	if err != nil {
		return r, err
	}
	r.syncCPU, r.syncPeak = u.cpu, u.peak
	if r.syncAlloc, err = metricSum(ctx, s.telemetry, "go_memstats_alloc_bytes_total"); err != nil {
		return r, err
	}
	b.log.Info("Synced", "side", s.name, "after", r.syncTime.Round(time.Millisecond), "cpu", r.syncCPU, "peakRSS", mb(r.syncPeak))
	b.saveProfile(ctx, s.pprof+"/heap", "crs-"+tag+"-"+s.short+"-synced-heap.pprof")

	sleep(ctx, settle)
	if err := b.crsSteady(ctx, p, &r); err != nil {
		return r, err
	}
	if r.steadyHeapInuse, err = metricSum(ctx, s.telemetry, "go_memstats_heap_inuse_bytes"); err != nil {
		return r, err
	}
	// Both serve pprof on their telemetry address: the heap profile with
	// gc=1 collects first, and the heap is then what is live.
	b.saveProfile(ctx, s.pprof+"/heap?gc=1", "crs-"+tag+"-"+s.short+"-steady-heap.pprof")
	if r.liveHeap, err = metricSum(ctx, s.telemetry, "go_memstats_heap_alloc_bytes"); err != nil {
		return r, err
	}
	// An idle process may not collect for minutes (Go forces a GC every 2),
	// nor return what it freed at once: its RSS once it has.
	sleep(ctx, settle)
	if u, err = p.usage(); err != nil {
		return r, err
	}
	r.afterGCRSS = u.rss
	// Last, as it costs: the whole exposition.
	if r.objects, r.series, err = countExposition(ctx, s.metrics, crsFamily, false); err != nil {
		return r, err
	}
	if r.objects != n {
		return r, fmt.Errorf("%d series of %s, want %d", r.objects, crsFamily, n)
	}
	b.log.Info("Steady", "side", s.name, "rss", mb(r.steadyRSS), "heapInuse", mb(int64(r.steadyHeapInuse)), "liveHeap", mb(int64(r.liveHeap)), "rssAfterGC", mb(r.afterGCRSS), "series", r.series)
	return r, nil
}

// crsSteady samples p's RSS over the steady window.
func (b *bench) crsSteady(ctx context.Context, p *proc, r *crsResult) error {
	u0, err := p.usage()
	if err != nil {
		return err
	}
	start := time.Now()
	var sum, samples int64
	for time.Since(start) < crsSteadyWindow {
		sleep(ctx, 2*time.Second)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u, err := p.usage()
		if err != nil {
			return err
		}
		sum, samples = sum+u.rss, samples+1
		r.runPeak = u.peak
		r.steadyCPUPerSec = (u.cpu - u0.cpu).Seconds() / time.Since(start).Seconds()
	}
	r.steadyRSS = sum / samples
	return p.exited()
}

// countExposition reads url's text exposition and counts the samples of
// family and of all families. With hangUp it hangs up once that family's
// samples are over (both sides write a family's samples together, and
// crsFamily first), so that a probe costs the exporter one family, not all.
func countExposition(ctx context.Context, url, family string, hangUp bool) (inFamily, all int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := noCompression.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		all++
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		switch {
		case name == family:
			inFamily++
		case hangUp && inFamily > 0:
			return inFamily, all, nil
		}
	}
	return inFamily, all, sc.Err()
}
