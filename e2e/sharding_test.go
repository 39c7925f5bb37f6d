package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestStaticShards runs three agents with --shard 0..2 --total-shards 3 and
// one unsharded agent, each with an external label of its own, and checks in
// the receiver that the three shards together send exactly the unsharded
// agent's series, and that no series is sent by two shards.
func TestStaticShards(t *testing.T) {
	ns := "e2e-shards"
	createNamespace(t, ns)
	for i := range 12 {
		createPendingPod(t, ns, fmt.Sprintf("p%d", i))
		createConfigMap(t, ns, fmt.Sprintf("c%d", i))
	}
	run := fmt.Sprint(time.Now().UnixNano())
	start := func(name string, flags ...string) *agentProc {
		cfg := filepath.Join(t.TempDir(), name+".yaml")
		body := fmt.Sprintf("resources: [pods, configmaps]\nnamespaces: [%s]\nexternal_labels:\n  ksp_e2e: %s-%s\nremote_write:\n  - url: %s/api/v1/write\n",
			ns, run, name, env.promURL)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return startAgentFlags(t, append([]string{"--config", cfg}, flags...)...)
	}
	agents := []*agentProc{start("all")}
	for s := range 3 {
		agents = append(agents, start(fmt.Sprintf("s%d", s), "--shard", fmt.Sprint(s), "--total-shards", "3"))
	}
	// The series of one agent, without its external label.
	seriesOf := func(name string) ([]string, error) {
		res, err := query(fmt.Sprintf(`{ksp_e2e=%q}`, run+"-"+name))
		if err != nil {
			return nil, err
		}
		var out []string
		for _, r := range res {
			delete(r.Labels, "ksp_e2e")
			out = append(out, r.String())
		}
		slices.Sort(out)
		return out, nil
	}
	var counts []int
	eventually(t, 30*time.Second, "the shards' series together are the unsharded agent's", func() error {
		all, err := seriesOf("all")
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("no series from the unsharded agent yet")
		}
		var union []string
		counts = nil
		for s := range 3 {
			ss, err := seriesOf(fmt.Sprintf("s%d", s))
			if err != nil {
				return err
			}
			counts = append(counts, len(ss))
			union = append(union, ss...)
		}
		slices.Sort(union)
		for i := 1; i < len(union); i++ {
			if union[i] == union[i-1] {
				return fmt.Errorf("sent by two shards: %s", union[i])
			}
		}
		if !slices.Equal(union, all) {
			return fmt.Errorf("shards send %d series, the unsharded agent %d", len(union), len(all))
		}
		counts = append(counts, len(all))
		return nil
	})
	t.Logf("series per shard %v, unsharded %d", counts[:3], counts[3])
	for s, n := range counts[:3] {
		if n == 0 {
			t.Errorf("shard %d sends nothing: the objects were not split", s)
		}
	}
	for s, a := range agents[1:] {
		if v := a.metric("kube_state_push_shard "); v != float64(s) {
			t.Errorf("shard %d: kube_state_push_shard = %v", s, v)
		}
		if v := a.metric("kube_state_push_total_shards "); v != 3 {
			t.Errorf("shard %d: kube_state_push_total_shards = %v", s, v)
		}
	}
}

// TestAutoSharding runs one agent per pod of a StatefulSet with --pod, scales
// the StatefulSet from 2 to 3 and back, and checks that every object's series
// stays in the receiver without a gap longer than a resend interval plus the
// handover, that each object is held by exactly one agent, and that the
// receiver rejected nothing.
func TestAutoSharding(t *testing.T) {
	ns := "e2e-autoshard"
	createNamespace(t, ns)
	createConfigMaps(t, ns, 20, func(uid string) bool { return ksmShard(uid, 3) == 2 })
	createStatefulSet(t, ns, "ksp", 2)
	waitPods(t, ns, 2)
	rejectedBefore := receiverRejected(t)
	const delay = time.Second
	agents := map[int]*agentProc{}
	start := func(i int) {
		agents[i] = startAgentFlags(t, "--resources", "configmaps,pods", "--namespaces", ns,
			"--pod", fmt.Sprintf("ksp-%d", i), "--pod-namespace", ns, "--shard-handover-delay", delay.String())
	}
	start(0)
	start(1)
	checkAllSent(t, ns, agents)
	time.Sleep(resendInterval) // a window of steady state before the scale

	scaled := scaleStatefulSet(t, ns, "ksp", 3)
	waitPods(t, ns, 3)
	start(2)
	checkAllSent(t, ns, agents)
	moved := checkHandover(t, ns, scaled)
	if v := agents[2].metric(`kube_state_push_snapshot_objects{resource="configmaps"}`); v != float64(moved) {
		t.Errorf("ksp-2 holds %v config maps, want the %d that hash to shard 2 of 3", v, moved)
	}
	t.Logf("2→3: %d of the config maps moved to ksp-2", moved)
	for i, a := range agents {
		if v := a.metric("kube_state_push_total_shards "); v != 3 {
			t.Errorf("ksp-%d: kube_state_push_total_shards = %v, want 3", i, v)
		}
	}
	for _, i := range []int{0, 1} {
		if v := agents[i].metric("kube_state_push_reshards_total "); v != 1 {
			t.Errorf("ksp-%d: kube_state_push_reshards_total = %v, want 1", i, v)
		}
	}

	scaled = scaleStatefulSet(t, ns, "ksp", 2)
	waitPods(t, ns, 2)
	eventually(t, 10*time.Second, "ksp-2 hands everything over", func() error {
		if v := agents[2].metric("kube_state_push_snapshot_objects"); v != 0 {
			return fmt.Errorf("ksp-2 still holds %v objects", v)
		}
		return nil
	})
	checkAllSent(t, ns, agents)
	checkHandover(t, ns, scaled)
	agents[2].stop(t)
	delete(agents, 2)
	checkAllSent(t, ns, agents)

	if v := receiverRejected(t) - rejectedBefore; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
}

// TestAutoShardingWALRestart stops the agent of ksp-0, which has a WAL, scales
// the StatefulSet from 2 to 3 while it is down, and starts it again: the WAL
// was written for shard 0 of 2, so the series of the objects that moved to
// ksp-2 meanwhile must not be ended by the restarted agent.
func TestAutoShardingWALRestart(t *testing.T) {
	ns := "e2e-autoshard-wal"
	createNamespace(t, ns)
	createConfigMaps(t, ns, 20, func(uid string) bool { return ksmShard(uid, 3) == 2 && ksmShard(uid, 2) == 0 })
	createStatefulSet(t, ns, "ksp", 2)
	waitPods(t, ns, 2)
	rejectedBefore := receiverRejected(t)
	walDir := t.TempDir()
	agents := map[int]*agentProc{}
	start := func(i int, extra ...string) {
		agents[i] = startAgentFlags(t, append([]string{"--resources", "configmaps,pods", "--namespaces", ns,
			"--pod", fmt.Sprintf("ksp-%d", i), "--pod-namespace", ns, "--shard-handover-delay", "1s"}, extra...)...)
	}
	start(0, "--wal-dir", walDir)
	start(1)
	checkAllSent(t, ns, agents)
	time.Sleep(resendInterval) // a complete resend in ksp-0's WAL

	agents[0].stop(t)
	delete(agents, 0)
	scaled := scaleStatefulSet(t, ns, "ksp", 3)
	waitPods(t, ns, 3)
	start(2)
	start(0, "--wal-dir", walDir)
	checkAllSent(t, ns, agents)
	if out := agents[0].out.String(); !strings.Contains(out, "The shard assignment changed since the WAL was written") {
		t.Errorf("the restarted agent did not notice the new assignment")
	}
	time.Sleep(2 * resendInterval)
	uids, err := configMapUIDs(ns)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, uid := range uids {
		if ksmShard(uid, 3) == 2 && ksmShard(uid, 2) == 0 {
			moved++
		}
	}
	t.Logf("%d config maps moved from ksp-0 to ksp-2 while ksp-0 was down", moved)
	for at := scaled.Add(-time.Second); at.Before(time.Now()); at = at.Add(200 * time.Millisecond) {
		res, err := queryAt(fmt.Sprintf(`kube_configmap_info{namespace=%q}`, ns), at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != len(uids) {
			t.Errorf("at %s (%s after the scale) %d config maps answer, want %d", at.Format(time.StampMilli), at.Sub(scaled), len(res), len(uids))
		}
	}
	if v := receiverRejected(t) - rejectedBefore; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
}

// TestShardLeaderLease: with --ha-mode=leader, the replicas of a shard compete
// for that shard's Lease.
func TestShardLeaderLease(t *testing.T) {
	ns := "e2e-shard-ha"
	createNamespace(t, ns)
	a := startAgentFlags(t, "--resources", "configmaps", "--namespaces", ns, "--shard", "1", "--total-shards", "2",
		"--ha-mode", "leader", "--ha-identity", "s1", "--ha-lease-name", "e2e-sharded", "--ha-lease-namespace", ns,
		"--ha-lease-duration", "4s", "--ha-renew-deadline", "2s", "--ha-retry-period", "500ms")
	eventually(t, 20*time.Second, "leading shard 1's Lease", func() error {
		l, err := env.client.CoordinationV1().Leases(ns).Get(context.Background(), "e2e-sharded-shard-1", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if h := l.Spec.HolderIdentity; h == nil || *h != "s1" {
			return fmt.Errorf("holder %v", h)
		}
		if v := a.metric("kube_state_push_ha_leading"); v != 1 {
			return fmt.Errorf("kube_state_push_ha_leading = %v", v)
		}
		return nil
	})
	if _, err := env.client.CoordinationV1().Leases(ns).Get(context.Background(), "e2e-sharded", metav1.GetOptions{}); err == nil {
		t.Errorf("the unsharded Lease e2e-sharded exists too")
	}
}

// checkAllSent waits until every config map and pod of ns is held by exactly
// one agent and answers in the receiver with its info series.
func checkAllSent(t *testing.T, ns string, agents map[int]*agentProc) {
	t.Helper()
	eventually(t, 30*time.Second, "every object sent by one agent", func() error {
		want := 0
		for _, kind := range []string{"configmap", "pod"} {
			names, err := objectNames(ns, kind)
			if err != nil {
				return err
			}
			want += len(names)
			res, err := query(fmt.Sprintf(`kube_%s_info{namespace=%q}`, kind, ns))
			if err != nil {
				return err
			}
			var got []string
			for _, r := range res {
				got = append(got, r.Labels[kind])
			}
			slices.Sort(got)
			if !slices.Equal(got, names) {
				return fmt.Errorf("%ss in the receiver %v, in the cluster %v", kind, got, names)
			}
		}
		held := 0.0
		for _, a := range agents {
			held += a.metric("kube_state_push_snapshot_objects")
		}
		if held != float64(want) {
			return fmt.Errorf("the agents hold %v objects together, the namespace has %d", held, want)
		}
		return nil
	})
}

// checkHandover waits two resend intervals, then checks every config map's
// info series over the window from before the scale: no gap longer than a
// resend interval plus the handover, and samples after the scale. It returns
// how many config maps hash to shard 2 of 3: those that moved.
func checkHandover(t *testing.T, ns string, scaled time.Time) int {
	t.Helper()
	time.Sleep(2 * resendInterval)
	window := time.Since(scaled) + 2*resendInterval
	raw, err := queryRawAll(fmt.Sprintf(`kube_configmap_info{namespace=%q}`, ns), window)
	if err != nil {
		t.Fatal(err)
	}
	uids, err := configMapUIDs(ns)
	if err != nil {
		t.Fatal(err)
	}
	const bound = resendInterval + 4*time.Second // a resend, the new agent's start and the 1s handover
	moved := 0
	var longest, longestMoved time.Duration
	for name, uid := range uids {
		ts := raw[name]
		if len(ts) == 0 {
			t.Errorf("configmap %s: no samples", name)
			continue
		}
		var gap time.Duration
		for i := 1; i < len(ts); i++ {
			gap = max(gap, ts[i].Sub(ts[i-1]))
		}
		longest = max(longest, gap)
		if gap > bound {
			t.Errorf("configmap %s: gap of %s in its series, more than %s", name, gap, bound)
		}
		if last := ts[len(ts)-1]; !last.After(scaled.Add(resendInterval)) {
			t.Errorf("configmap %s: last sample at %s, not after the scale", name, last.Format(time.StampMilli))
		}
		if ksmShard(uid, 3) == 2 {
			moved++
			longestMoved = max(longestMoved, gap)
		}
	}
	t.Logf("longest gap across the scale: %s in a moved config map's series, %s in any (bound %s)", longestMoved, longest, bound)

	// A staleness marker would show as a moment when a series does not answer.
	for at := scaled.Add(-time.Second); at.Before(time.Now()); at = at.Add(200 * time.Millisecond) {
		res, err := queryAt(fmt.Sprintf(`kube_configmap_info{namespace=%q}`, ns), at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != len(uids) {
			t.Errorf("at %s (%s after the scale) %d config maps answer, want %d", at.Format(time.StampMilli), at.Sub(scaled), len(res), len(uids))
		}
	}
	return moved
}

// ksmShard is kube-state-metrics' sharding: FNV-1a 64 of the UID, then jump
// consistent hash.
func ksmShard(uid string, total int) int {
	h := fnv.New64a()
	h.Write([]byte(uid))
	key := h.Sum64()
	b, j := int64(-1), int64(0)
	for j < int64(total) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

func createConfigMap(t *testing.T, ns, name string) string {
	t.Helper()
	c, err := env.client.CoreV1().ConfigMaps(ns).Create(testContext(t), &v1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": name},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(c.UID)
}

// createConfigMaps creates n config maps, and more until at least two of them
// are moves (UIDs are random), so that the test always has moves to check.
func createConfigMaps(t *testing.T, ns string, n int, moves func(uid string) bool) {
	t.Helper()
	moved := 0
	for i := 0; i < n || moved < 2; i++ {
		if i == 200 {
			t.Fatal("200 config maps and still no two moves")
		}
		if moves(createConfigMap(t, ns, fmt.Sprintf("c%d", i))) {
			moved++
		}
	}
}

// createStatefulSet creates a StatefulSet whose pods run on the kwok nodes.
func createStatefulSet(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{
					NodeSelector: map[string]string{"type": "kwok"},
					Containers:   []v1.Container{container("agent", "50m", "64Mi")},
				},
			},
		},
	}
	if _, err := env.client.AppsV1().StatefulSets(ns).Create(testContext(t), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func scaleStatefulSet(t *testing.T, ns, name string, n int) time.Time {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)
	if _, err := env.client.AppsV1().StatefulSets(ns).Patch(testContext(t), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// waitPods waits until ns has exactly n pods, none of them terminating.
func waitPods(t *testing.T, ns string, n int) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("%d pods in %s", n, ns), func() error {
		pods, err := env.client.CoreV1().Pods(ns).List(testContext(t), metav1.ListOptions{})
		if err != nil {
			return err
		}
		live := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return fmt.Errorf("pod %s terminating", p.Name)
			}
			live++
		}
		if live != n {
			return fmt.Errorf("%d pods", live)
		}
		return nil
	})
}

func objectNames(ns, kind string) ([]string, error) {
	var names []string
	switch kind {
	case "configmap":
		l, err := env.client.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			names = append(names, o.Name)
		}
	case "pod":
		l, err := env.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			names = append(names, o.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func configMapUIDs(ns string) (map[string]string, error) {
	l, err := env.client.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, o := range l.Items {
		out[o.Name] = string(o.UID)
	}
	return out, nil
}

// queryRawAll returns the raw sample timestamps of every series q matches
// over the window before now, by the value of the configmap label.
func queryRawAll(q string, window time.Duration) (map[string][]time.Time, error) {
	resp, err := http.Get(env.promURL + "/api/v1/query?query=" +
		url.QueryEscape(fmt.Sprintf("%s[%dms]", q, window.Milliseconds())))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	for _, s := range r.Data.Result {
		name := s.Metric["configmap"]
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("two series for configmap %s: %s", name, strings.TrimSpace(fmt.Sprint(s.Metric)))
		}
		for _, v := range s.Values {
			ts, _ := v[0].(float64)
			out[name] = append(out[name], time.UnixMilli(int64(ts*1000)))
		}
	}
	return out, nil
}
