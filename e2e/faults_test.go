package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
)

// apiserver stops or starts the cluster's kube-apiserver (same flags, port and
// etcd); starting waits for /readyz and is a no-op when it runs.
func apiserver(t *testing.T, action string) {
	t.Helper()
	clusterVerb(t, action+"-apiserver")
}

// waitServiceAccount waits until the controller-manager has made ns's
// default service account, without which no pod can be created there: after
// an apiserver restart its watches come back only after their backoff.
func waitServiceAccount(t *testing.T, ns string) {
	t.Helper()
	eventually(t, 2*time.Minute, "default service account in "+ns, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := env.client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// restartCleanup starts the apiserver again if a test stopped it and left
// early, and waits until the controller-manager works again (a new
// namespace gets its service account), so that the tests after it can create
// pods at once.
func restartCleanup(t *testing.T) {
	t.Cleanup(func() {
		apiserver(t, "start")
		ns := fmt.Sprintf("e2e-probe-%d", time.Now().UnixNano())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := env.client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			metav1.CreateOptions{}); err != nil {
			t.Errorf("probe namespace: %v", err)
			return
		}
		defer func() { _ = env.client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) }()
		waitServiceAccount(t, ns)
	})
}

func pendingPod(ns, name string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1.PodSpec{
			NodeSelector: map[string]string{"type": "nowhere"},
			Containers:   []v1.Container{container("app", "50m", "32Mi")},
		},
	}
}

func createPodCtx(ctx context.Context, ns, name string) error {
	_, err := env.client.CoreV1().Pods(ns).Create(ctx, pendingPod(ns, name), metav1.CreateOptions{})
	return err
}

func patchPhaseCtx(ctx context.Context, ns, name, phase string) error {
	_, err := env.client.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType,
		[]byte(fmt.Sprintf(`{"status":{"phase":%q}}`, phase)), metav1.PatchOptions{}, "status")
	return err
}

func deletePodCtx(ctx context.Context, ns, name string) error {
	zero := int64(0)
	return env.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
}

// churner creates, patches and deletes pods named prefix-N in a loop until
// stopped, ignoring the errors of an apiserver that is down.
type churner struct {
	stopc   chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	deleted []string
	ops     int
	errs    int
}

func startChurn(ns, prefix string) *churner {
	c := &churner{stopc: make(chan struct{}), done: make(chan struct{})}
	name := func(i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
	go func() {
		defer close(c.done)
		for i := 0; ; i++ {
			select {
			case <-c.stopc:
				return
			case <-time.After(150 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs := 0
			if createPodCtx(ctx, ns, name(i)) != nil {
				errs++
			}
			if i >= 1 && patchPhaseCtx(ctx, ns, name(i-1), "Running") != nil {
				errs++
			}
			var gone string
			if i >= 2 {
				if deletePodCtx(ctx, ns, name(i-2)) != nil {
					errs++
				} else {
					gone = name(i - 2)
				}
			}
			cancel()
			c.mu.Lock()
			c.ops += 3
			c.errs += errs
			if gone != "" {
				c.deleted = append(c.deleted, gone)
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *churner) deletes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.deleted)
}

// stop ends the loop and returns the pods it deleted, its calls and failed calls.
func (c *churner) stop() (deleted []string, ops, errs int) {
	close(c.stopc)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.deleted), c.ops, c.errs
}

// podsMatchAPI compares the pods of ns in the API (name, UID, phase) with
// what Prometheus answers now: kube_pod_info and the phase that is 1. It
// returns how many pods were compared.
func podsMatchAPI(ns string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := env.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	want := map[string]string{}
	for _, p := range pods.Items {
		want[p.Name] = string(p.UID) + " " + string(p.Status.Phase)
	}
	info, err := query(fmt.Sprintf(`kube_pod_info{namespace=%q}`, ns))
	if err != nil {
		return 0, err
	}
	phases, err := query(fmt.Sprintf(`kube_pod_status_phase{namespace=%q} == 1`, ns))
	if err != nil {
		return 0, err
	}
	got := map[string]string{}
	for _, s := range info {
		got[s.Labels["pod"]] = s.Labels["uid"]
	}
	for _, s := range phases {
		got[s.Labels["pod"]] += " " + s.Labels["phase"]
	}
	var diff []string
	for name, w := range want {
		if got[name] != w {
			diff = append(diff, fmt.Sprintf("%s: API %q, Prometheus %q", name, w, got[name]))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s: not in the API, Prometheus %q", name, g))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return 0, fmt.Errorf("%d of %d pods differ: %s", len(diff), len(want), strings.Join(diff, "; "))
	}
	return len(want), nil
}

// noPodSeries is nil when none of the named pods of ns has a series now.
func noPodSeries(ns string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	res, err := query(fmt.Sprintf(`count by (pod) ({namespace=%q,pod=~%q})`, ns, strings.Join(names, "|")))
	if err != nil {
		return err
	}
	if len(res) > 0 {
		var pods []string
		for _, s := range res {
			pods = append(pods, s.Labels["pod"])
		}
		return fmt.Errorf("deleted pods still have series: %v", pods)
	}
	return nil
}

var watchedResources = []string{"pods", "deployments", "nodes", "namespaces"}

func (a *agentProc) counters(name, extra string) map[string]float64 {
	out := map[string]float64{}
	for _, r := range watchedResources {
		out[r] = a.metric(fmt.Sprintf(`%s{resource=%q%s}`, name, r, extra))
	}
	return out
}

// TestApiserverRestart stops the apiserver for about 15 s while pods churn,
// with deletes right before the stop and deletes, creates and changes right
// after the start (before the agent's watches are back), and checks in
// Prometheus that the agent's watches reconnected and that every pod's final
// state is there, the deleted pods' series ended, and nothing was rejected or
// dropped.
func TestApiserverRestart(t *testing.T) {
	ns := "e2e-apirestart"
	createNamespace(t, ns)
	waitServiceAccount(t, ns)
	createDeployment(t, ns, "web", 2)
	var pre, post, keep []string
	for i := range 3 {
		pre = append(pre, fmt.Sprintf("pre-%d", i))
		post = append(post, fmt.Sprintf("post-%d", i))
		keep = append(keep, fmt.Sprintf("keep-%d", i))
	}
	for _, p := range slices.Concat(pre, post, keep) {
		createPendingPod(t, ns, p)
	}
	rejected := receiverRejected(t)
	a := startAgent(t, "--wal-dir", t.TempDir())
	restartCleanup(t) // runs before the namespace's and the agent's clean-up
	eventually(t, 30*time.Second, "pods seen", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-apirestart",pod="keep-2",phase="Pending"}`, 1)
	})

	churn := startChurn(ns, "churn")
	eventually(t, 30*time.Second, "churn under way", func() error {
		if n := churn.deletes(); n < 5 {
			return fmt.Errorf("%d deletes so far", n)
		}
		return nil
	})
	watchErrs, watchOK := a.counters("kube_state_push_watch_total", `,result="error"`), a.counters("kube_state_push_watch_total", `,result="success"`)
	lists := a.counters("kube_state_push_list_total", `,result="success"`)
	relists := a.counters("kube_state_push_relists_total", "")

	// Deletes right before the stop: the agent may or may not see their events.
	for _, p := range pre {
		deletePod(t, ns, p)
	}
	down := time.Now()
	apiserver(t, "stop")
	stopped := time.Since(down)
	eventually(t, 30*time.Second, "agent's watches fail while the apiserver is down", func() error {
		if v := a.metric(`kube_state_push_watch_total{resource="pods",result="error"}`); v <= watchErrs["pods"] {
			return fmt.Errorf("pods watch errors %v, before %v", v, watchErrs["pods"])
		}
		return nil
	})
	time.Sleep(time.Until(down.Add(15 * time.Second))) // the outage's length, not a wait for a condition
	apiserver(t, "start")
	up := time.Now()
	t.Logf("apiserver down for %s (the stop took %s)", up.Sub(down).Round(time.Millisecond), stopped.Round(time.Millisecond))

	// Right after the start, before the agent's watches are back (they back
	// off), all at once.
	calls := map[string]func(ctx context.Context) error{
		"patch keep-0": func(ctx context.Context) error { return patchPhaseCtx(ctx, ns, "keep-0", "Running") },
		"scale web": func(ctx context.Context) error {
			_, err := env.client.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType,
				[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{})
			return err
		},
	}
	for i, p := range post {
		calls["delete "+p] = func(ctx context.Context) error { return deletePodCtx(ctx, ns, p) }
		name := fmt.Sprintf("born-%d", i)
		calls["create "+name] = func(ctx context.Context) error { return createPodCtx(ctx, ns, name) }
	}
	var wg sync.WaitGroup
	failed := make(chan error, len(calls))
	for what, call := range calls {
		wg.Go(func() {
			deadline := time.Now().Add(30 * time.Second)
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := call(ctx)
				cancel()
				if err == nil {
					return
				}
				if time.Now().After(deadline) {
					failed <- fmt.Errorf("%s: %w", what, err)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(failed)
	for err := range failed {
		t.Fatal(err)
	}
	changesDone := time.Since(up)
	backBefore := a.metric(`kube_state_push_relists_total{resource="pods"}`) > relists["pods"]

	// The watches reconnect. The restart emptied the apiserver's watch cache,
	// so a watch that resumes from the agent's resourceVersion gets 410 (a
	// successful watch call whose first event is the error) and the
	// reflector relists, after its backoff: a resource is back once it has
	// relisted.
	reconnect := map[string]time.Duration{}
	eventually(t, 90*time.Second, "agent's watches reconnected (relisted)", func() error {
		var missing []string
		for _, r := range watchedResources {
			if _, ok := reconnect[r]; ok {
				continue
			}
			if a.metric(fmt.Sprintf(`kube_state_push_relists_total{resource=%q}`, r)) > relists[r] {
				reconnect[r] = time.Since(up)
			} else {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not relisted since the outage: %v", missing)
		}
		return nil
	})
	// Changes made after the reconnect flow as events again.
	eventually(t, 30*time.Second, "born pods visible", func() error {
		return queryValue(`count(kube_pod_info{namespace="e2e-apirestart",pod=~"born-.*"})`, 3)
	})
	churnDeletes := churn.deletes()
	eventually(t, 30*time.Second, "churn after the restart", func() error {
		if n := churn.deletes(); n < churnDeletes+5 {
			return fmt.Errorf("%d deletes since the reconnect", n-churnDeletes)
		}
		return nil
	})
	deleted, ops, errs := churn.stop()

	var compared int
	settle := eventually(t, 60*time.Second, "every pod's final state in Prometheus", func() error {
		n, err := podsMatchAPI(ns)
		compared = n
		return err
	})
	gone := slices.Concat(pre, post, deleted)
	eventually(t, 30*time.Second, "deleted pods' series ended", func() error { return noPodSeries(ns, gone) })
	eventually(t, 30*time.Second, "scale after the restart", func() error {
		return queryValue(`kube_deployment_spec_replicas{namespace="e2e-apirestart",deployment="web"}`, 3)
	})
	waitDrained(t, a, time.Minute)

	if v := receiverRejected(t) - rejected; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
	after := a.counters("kube_state_push_relists_total", "")
	afterLists := a.counters("kube_state_push_list_total", `,result="success"`)
	afterErrs := a.counters("kube_state_push_watch_total", `,result="error"`)
	afterOK := a.counters("kube_state_push_watch_total", `,result="success"`)
	var summary []string
	for _, r := range watchedResources {
		summary = append(summary, fmt.Sprintf("%s: relisted %s after the start, watch calls failed %v, succeeded %v, relists %v, list calls %v",
			r, reconnect[r].Round(time.Millisecond), afterErrs[r]-watchErrs[r], afterOK[r]-watchOK[r], after[r]-relists[r], afterLists[r]-lists[r]))
	}
	out := a.out.String()
	t.Logf("after the start: changes made in %s (pods relisted before they were done: %v); %s",
		changesDone.Round(time.Millisecond), backBefore, strings.Join(summary, "; "))
	t.Logf("churn: %d calls, %d failed; %d pods compared with the API (settled %s after the reconnect), %d deleted pods ended; agent log: %d \"too old resource version\", %d watch backoffs",
		ops, errs, compared, settle.Round(time.Millisecond), len(gone),
		strings.Count(out, "too old resource version"), strings.Count(out, "Watch failed - backing off")+strings.Count(out, "watch-list failed - backing off"))
	if !strings.Contains(out, "backing off") {
		t.Errorf("the agent's log shows no watch backing off while the apiserver was down")
	}
}

// tcpProxy forwards loopback connections to target; cut makes it refuse
// connections (as a stopped apiserver does) and closes the open ones.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr, p.ln = ln.Addr().String(), ln
	go p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *tcpProxy) forward(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	wg.Add(2)
	go pipe(u, c)
	go pipe(c, u)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	eventually(t, 10*time.Second, "proxy listens again on "+p.addr, func() error {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.ln = ln
		p.mu.Unlock()
		go p.serve(ln)
		return nil
	})
}

// proxiedKubeconfig writes a copy of the cluster's kubeconfig whose server is
// addr (the apiserver's certificate is for 127.0.0.1, any port).
func proxiedKubeconfig(t *testing.T, addr string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + addr
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// etcdPost posts a JSON body to the etcd v3 HTTP gateway.
func etcdPost(t *testing.T, path, body string, out any) error {
	t.Helper()
	vars, err := readEnvFile(filepath.Join(env.stateDir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(vars["ETCD_URL"]+path, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// compactEtcd compacts etcd's history up to its current revision, which it
// returns: every older resourceVersion is gone.
func compactEtcd(t *testing.T) string {
	t.Helper()
	var r struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := etcdPost(t, "/v3/kv/range", `{"key":"AA=="}`, &r); err != nil {
		t.Fatal(err)
	}
	if r.Header.Revision == "" {
		t.Fatal(errors.New("etcd range: no revision in the header"))
	}
	var c struct{}
	if err := etcdPost(t, "/v3/kv/compaction", fmt.Sprintf(`{"revision":%q,"physical":true}`, r.Header.Revision), &c); err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

// TestWatchExpiry makes the agent's resourceVersions expire: its connection to
// the apiserver is cut while pods are deleted, changed and created, etcd is
// compacted to its current revision and the apiserver restarted (which empties
// its watch cache), then the connection is restored. Every watch resumes from
// a resourceVersion that is gone, gets 410 Gone and relists. The test checks
// that each resource relisted exactly once, that the pods deleted in the gap
// ended and the changed ones show their final values, that nothing was
// rejected and that a stable series has no duplicate or missing samples.
func TestWatchExpiry(t *testing.T) {
	ns := "e2e-expiry"
	createNamespace(t, ns)
	waitServiceAccount(t, ns)
	createDeployment(t, ns, "steady", 1)
	var goes, changes []string
	for i := range 3 {
		goes = append(goes, fmt.Sprintf("goes-%d", i))
		changes = append(changes, fmt.Sprintf("changes-%d", i))
	}
	for _, p := range slices.Concat([]string{"stable"}, goes, changes) {
		createPendingPod(t, ns, p)
	}
	rejected := receiverRejected(t)
	rc, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, strings.TrimPrefix(rc.Host, "https://"))
	a := startAgent(t, "--wal-dir", t.TempDir(), "--kubeconfig", proxiedKubeconfig(t, proxy.addr))
	ready := time.Now()
	restartCleanup(t)
	eventually(t, 30*time.Second, "pods seen", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-expiry",pod="changes-2",phase="Pending"}`, 1)
	})
	// A watch closed within a second of its start is a "very short watch" to
	// client-go, which then lists again at once (a watch-list not older than
	// its resourceVersion) instead of resuming the watch: let the watches
	// outlive that second first, so that the cut interrupts a running watch.
	time.Sleep(time.Until(ready.Add(2 * time.Second)))
	windowStart := time.Now()
	relists := a.counters("kube_state_push_relists_total", "")
	lists := a.counters("kube_state_push_list_total", `,result="success"`)

	// The gap: the agent cannot reach the apiserver while pods change.
	proxy.cut()
	cut := time.Now()
	for _, p := range goes {
		deletePod(t, ns, p)
	}
	for _, p := range changes {
		patchPhase(t, ns, p, "Running")
	}
	for i := range 2 {
		createPendingPod(t, ns, fmt.Sprintf("born-%d", i))
	}
	scaleDeployment(t, ns, "steady", 2)
	rev := compactEtcd(t)
	// A restart empties the watch cache: the resourceVersions the agent
	// resumes from are neither in it nor, compacted, in etcd.
	apiserver(t, "stop")
	apiserver(t, "start")
	// Until the connection is back the agent knows nothing of the gap.
	restored := time.Now()
	checkAt(t, `kube_pod_status_phase{namespace="e2e-expiry",pod="goes-0",phase="Pending"}`, restored.Add(-time.Second), 1)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-expiry",pod="changes-0",phase="Running"}`, restored.Add(-time.Second), 0)
	proxy.restore(t)
	t.Logf("gap of %s, etcd compacted at revision %s", restored.Sub(cut).Round(time.Millisecond), rev)

	relisted := map[string]time.Duration{}
	eventually(t, 90*time.Second, "every resource relisted", func() error {
		var missing []string
		for _, r := range watchedResources {
			if _, ok := relisted[r]; ok {
				continue
			}
			if a.metric(fmt.Sprintf(`kube_state_push_relists_total{resource=%q}`, r)) > relists[r] {
				relisted[r] = time.Since(restored)
			} else {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not relisted yet: %v", missing)
		}
		return nil
	})
	var compared int
	eventually(t, 30*time.Second, "every pod's final state in Prometheus", func() error {
		n, err := podsMatchAPI(ns)
		compared = n
		return err
	})
	eventually(t, 30*time.Second, "pods deleted in the gap ended", func() error { return noPodSeries(ns, goes) })
	eventually(t, 30*time.Second, "scale in the gap", func() error {
		return queryValue(`kube_deployment_spec_replicas{namespace="e2e-expiry",deployment="steady"}`, 2)
	})
	for _, p := range changes {
		checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace="e2e-expiry",pod=%q,phase="Running"}`, p), time.Now(), 1)
	}
	// Some resend rounds after the relist: a second relist would show now.
	time.Sleep(2 * resendInterval)
	waitDrained(t, a, time.Minute)
	end := time.Now()

	after := a.counters("kube_state_push_relists_total", "")
	afterLists := a.counters("kube_state_push_list_total", `,result="success"`)
	var summary []string
	for _, r := range watchedResources {
		if n := after[r] - relists[r]; n != 1 {
			t.Errorf("%s relisted %v times, want exactly 1", r, n)
		}
		summary = append(summary, fmt.Sprintf("%s: relisted %s after the restore, relists %v, list calls %v",
			r, relisted[r].Round(time.Millisecond), after[r]-relists[r], afterLists[r]-lists[r]))
	}
	out := a.out.String()
	if !strings.Contains(out, "too old resource version") {
		t.Errorf("the agent's log shows no watch ending with 410 (too old resource version)")
	}

	// The stable pod's series: one sample per resend interval over the whole
	// window, the gap and the relist included; none twice, none missing.
	window := end.Sub(windowStart).Truncate(time.Second)
	res, err := queryAt(fmt.Sprintf(`count_over_time(kube_pod_info{namespace="e2e-expiry",pod="stable"}[%ds])`, int(window.Seconds())), end)
	if err != nil || len(res) != 1 {
		t.Fatalf("count_over_time over the window: %v %v", res, err)
	}
	expect := window.Seconds() / resendInterval.Seconds()
	if n := res[0].Value; n < expect-2 || n > expect+2 {
		t.Errorf("%v samples of the stable series in %s, want %.1f ± 2", n, window, expect)
	}
	ts, err := queryRaw(`kube_pod_info{namespace="e2e-expiry",pod="stable"}`, window)
	if err != nil {
		t.Fatal(err)
	}
	minGap, maxGap := time.Hour, time.Duration(0)
	for i := 1; i < len(ts); i++ {
		d := ts[i].Sub(ts[i-1])
		minGap, maxGap = min(minGap, d), max(maxGap, d)
	}
	if v := receiverRejected(t) - rejected; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
	t.Logf("%s; %d pods compared with the API; stable series: %v samples in %s (expected %.1f), gaps %s..%s; agent log: %d \"too old resource version\"",
		strings.Join(summary, "; "), compared, res[0].Value, window, expect, minGap, maxGap, strings.Count(out, "too old resource version"))
}
