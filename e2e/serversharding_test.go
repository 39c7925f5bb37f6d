package e2e

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServerSideSharding runs three agents with --shard 0..2 --total-shards 3
// --server-side-sharding against the apiserver with ShardedListAndWatch on,
// beside an unsharded agent and a client-side shard (jump hash). The
// server-side shards together send exactly the unsharded agent's series, each
// once; each reports that the apiserver applied its selector; and each reads
// about a third of what the unsharded agent reads from the apiserver, where
// the client-side shard reads it all.
func TestServerSideSharding(t *testing.T) {
	ns := "e2e-server-shards"
	createNamespace(t, ns)
	for i := range 60 {
		createPendingPod(t, ns, fmt.Sprintf("p%d", i))
	}
	for i := range 20 {
		createConfigMap(t, ns, fmt.Sprintf("c%d", i))
	}
	run := fmt.Sprint(time.Now().UnixNano())
	start := func(name string, flags ...string) *agentProc {
		return startLabelledAgent(t, ns, run, name, flags...)
	}
	all := start("all")
	client := start("client", "--shard", "0", "--total-shards", "3")
	var shards []*agentProc
	for s := range 3 {
		shards = append(shards, start(fmt.Sprintf("s%d", s), "--shard", fmt.Sprint(s), "--total-shards", "3", "--server-side-sharding"))
	}
	counts := checkShardsUnion(t, run, "all", []string{"s0", "s1", "s2"})
	t.Logf("series per server-side shard %v, unsharded %d", counts[:3], counts[3])

	for s, a := range shards {
		for _, r := range []string{"pods", "configmaps"} {
			if v := a.metric(fmt.Sprintf(`kube_state_push_server_side_sharding{resource=%q}`, r)); v != 1 {
				t.Errorf("shard %d: kube_state_push_server_side_sharding{resource=%q} = %v, want 1", s, r, v)
			}
		}
		if strings.Contains(a.out.String(), "does not apply the shard selector") {
			t.Errorf("shard %d logged a fallback", s)
		}
		if !strings.Contains(a.out.String(), "server_side=true") {
			t.Errorf("shard %d does not log server-side sharding", s)
		}
	}
	if v := client.metric("kube_state_push_server_side_sharding"); v != 0 {
		t.Errorf("the client-side shard has a server-side sharding gauge: %v", v)
	}

	const received = "kube_state_push_apiserver_received_bytes_total"
	total := all.metric(received)
	var sum float64
	for s, a := range shards {
		b := a.metric(received)
		sum += b
		t.Logf("shard %d read %.0f bytes from the apiserver, %.2f of the unsharded agent's %.0f", s, b, b/total, total)
		if r := b / total; r < 0.15 || r > 0.55 {
			t.Errorf("shard %d read %.2f of the unsharded agent's bytes, want about a third", s, r)
		}
	}
	c := client.metric(received)
	t.Logf("the client-side shard read %.0f bytes (%.2f), the server-side shards %.0f together (%.2f)", c, c/total, sum, sum/total)
	if c < 0.9*total {
		t.Errorf("the client-side shard read %.0f bytes, less than the unsharded agent's %.0f", c, total)
	}
}

// TestServerSideShardingFallback restarts the apiserver with its feature
// gates at their defaults (ShardedListAndWatch off): the agents with
// --server-side-sharding see no echo, log it once per resource, show 0, and
// filter client-side with the same hash-range partition, so that every
// object is still sent exactly once.
func TestServerSideShardingFallback(t *testing.T) {
	restartCleanup(t)
	t.Cleanup(func() {
		apiserver(t, "stop") // restartCleanup starts it again, with the gate
	})
	apiserver(t, "stop")
	startAPIServerWithGates(t, "")

	ns := "e2e-server-shards-fallback"
	createNamespace(t, ns)
	for i := range 12 {
		createConfigMap(t, ns, fmt.Sprintf("c%d", i))
	}
	flags := []string{"--resources", "configmaps", "--custom-resource-state-config-file", createGizmos(t, ns, 12)}
	run := fmt.Sprint(time.Now().UnixNano())
	var shards []*agentProc
	for s := range 2 {
		shards = append(shards, startLabelledAgent(t, ns, run, fmt.Sprintf("s%d", s),
			append([]string{"--shard", fmt.Sprint(s), "--total-shards", "2", "--server-side-sharding"}, flags...)...))
	}
	startLabelledAgent(t, ns, run, "all", flags...)
	counts := checkShardsUnion(t, run, "all", []string{"s0", "s1"})
	t.Logf("series per shard %v, unsharded %d", counts[:2], counts[2])
	uids, err := configMapUIDs(ns)
	if err != nil {
		t.Fatal(err)
	}
	for s, a := range shards {
		// Config maps (no echo) and Gizmos (objects of the other shard).
		eventually(t, 10*time.Second, fmt.Sprintf("shard %d filters both resources itself", s), func() error {
			if v := a.metric(`kube_state_push_server_side_sharding{resource="configmaps"}`); v != 0 {
				return fmt.Errorf("kube_state_push_server_side_sharding{resource=\"configmaps\"} = %v, want 0", v)
			}
			if n := strings.Count(a.out.String(), "does not apply the shard selector"); n != 2 {
				return fmt.Errorf("the fallback logged %d times, want once per resource (2)", n)
			}
			return nil
		})
		if v := a.metric("kube_state_push_server_side_sharding{"); v != 0 {
			t.Errorf("shard %d: kube_state_push_server_side_sharding sums to %v, want 0", s, v)
		}
		want := 0
		for _, uid := range uids {
			if rangeShard(uid, 2) == s {
				want++
			}
		}
		if v := a.metric(`kube_state_push_snapshot_objects{resource="configmaps"}`); v != float64(want) {
			t.Errorf("shard %d holds %v config maps, want the %d of its hash range", s, v, want)
		}
	}
}

// TestServerSideAutoSharding is TestAutoSharding with --server-side-sharding:
// the StatefulSet scales from 2 to 3 and back, the objects that change hash
// range move without a gap, a staleness marker or a rejected sample, and each
// object is held by exactly one agent.
func TestServerSideAutoSharding(t *testing.T) {
	ns := "e2e-server-autoshard"
	createNamespace(t, ns)
	moves := func(uid string) bool { return rangeShard(uid, 2) != rangeShard(uid, 3) }
	createConfigMaps(t, ns, 20, func(uid string) bool { return rangeShard(uid, 3) == 2 })
	createStatefulSet(t, ns, "ksp", 2)
	waitPods(t, ns, 2)
	rejectedBefore := receiverRejected(t)
	agents := map[int]*agentProc{}
	start := func(i int) {
		agents[i] = startAgentFlags(t, "--resources", "configmaps,pods", "--namespaces", ns, "--server-side-sharding",
			"--pod", fmt.Sprintf("ksp-%d", i), "--pod-namespace", ns, "--shard-handover-delay", "1s")
	}
	start(0)
	start(1)
	checkAllSent(t, ns, agents)
	time.Sleep(resendInterval)

	scaled := scaleStatefulSet(t, ns, "ksp", 3)
	waitPods(t, ns, 3)
	start(2)
	checkAllSent(t, ns, agents)
	checkHandover(t, ns, scaled)
	uids, err := configMapUIDs(ns)
	if err != nil {
		t.Fatal(err)
	}
	moved, third := 0, 0
	for _, uid := range uids {
		if moves(uid) {
			moved++
		}
		if rangeShard(uid, 3) == 2 {
			third++
		}
	}
	t.Logf("2→3: %d of %d config maps changed hash range, %d to ksp-2", moved, len(uids), third)
	if v := agents[2].metric(`kube_state_push_snapshot_objects{resource="configmaps"}`); v != float64(third) {
		t.Errorf("ksp-2 holds %v config maps, want the %d of range 2 of 3", v, third)
	}
	for i, a := range agents {
		if v := a.metric(`kube_state_push_server_side_sharding{resource="configmaps"}`); v != 1 {
			t.Errorf("ksp-%d: kube_state_push_server_side_sharding = %v, want 1", i, v)
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

// startAPIServerWithGates starts the stopped apiserver with these
// --feature-gates ("" for the defaults) instead of the cluster's.
func startAPIServerWithGates(t *testing.T, gates string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "hack", "cluster.sh"), "start-apiserver", env.stateDir)
	cmd.Env = append(os.Environ(), "KSP_APISERVER_FEATURE_GATES="+gates)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("start-apiserver: %v", err)
	}
}

// startLabelledAgent runs an agent on pods and config maps of ns (unless
// flags name the resources) whose series carry the external label
// ksp_e2e=<run>-<name>.
func startLabelledAgent(t *testing.T, ns, run, name string, flags ...string) *agentProc {
	t.Helper()
	resources := "resources: [pods, configmaps]\n"
	if slices.Contains(flags, "--resources") || slices.Contains(flags, "--custom-resource-state-only") {
		resources = ""
	}
	cfg := filepath.Join(t.TempDir(), name+".yaml")
	body := fmt.Sprintf("%snamespaces: [%s]\nexternal_labels:\n  ksp_e2e: %s-%s\nremote_write:\n  - url: %s/api/v1/write\n",
		resources, ns, run, name, env.promURL)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return startAgentFlags(t, append([]string{"--config", cfg}, flags...)...)
}

// checkShardsUnion waits until the agents named shards send together exactly
// the series of the agent named all, none twice, and returns how many each
// sends, then all's count.
func checkShardsUnion(t *testing.T, run, all string, shards []string) []int {
	t.Helper()
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
		want, err := seriesOf(all)
		if err != nil {
			return err
		}
		if len(want) == 0 {
			return fmt.Errorf("no series from the unsharded agent yet")
		}
		var union []string
		counts = nil
		for _, s := range shards {
			ss, err := seriesOf(s)
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
		if !slices.Equal(union, want) {
			return fmt.Errorf("shards send %d series, the unsharded agent %d", len(union), len(want))
		}
		counts = append(counts, len(want))
		return nil
	})
	for i, n := range counts[:len(shards)] {
		if n == 0 {
			t.Errorf("shard %s sends nothing: the objects were not split", shards[i])
		}
	}
	return counts
}

// rangeShard is the apiserver's shard selector partition: FNV-1a 64 of the
// UID, in the i-th of total equal hash ranges.
func rangeShard(uid string, total int) int {
	h := fnv.New64a()
	h.Write([]byte(uid))
	hi, _ := bits.Mul64(h.Sum64(), uint64(total))
	return int(hi)
}

// TestServerSideShardingCustomResources: custom resources, listed and
// watched through the dynamic client, are split by the apiserver too. Three
// shards with --server-side-sharding send together exactly the unsharded
// agent's series, and report the selector applied.
func TestServerSideShardingCustomResources(t *testing.T) {
	ns := "e2e-server-shards-crs"
	createNamespace(t, ns)
	config := createGizmos(t, ns, 30)
	run := fmt.Sprint(time.Now().UnixNano())
	flags := []string{"--custom-resource-state-only", "--custom-resource-state-config-file", config}
	startLabelledAgent(t, ns, run, "all", flags...)
	var shards []*agentProc
	for s := range 3 {
		shards = append(shards, startLabelledAgent(t, ns, run, fmt.Sprintf("s%d", s),
			append([]string{"--shard", fmt.Sprint(s), "--total-shards", "3", "--server-side-sharding"}, flags...)...))
	}
	counts := checkShardsUnion(t, run, "all", []string{"s0", "s1", "s2"})
	t.Logf("series per shard %v, unsharded %d", counts[:3], counts[3])
	for s, a := range shards {
		eventually(t, 10*time.Second, fmt.Sprintf("shard %d reports the selector applied", s), func() error {
			if v := a.metric("kube_state_push_server_side_sharding{"); v != 1 {
				return fmt.Errorf("kube_state_push_server_side_sharding = %v, want 1 (one resource)", v)
			}
			return nil
		})
		if strings.Contains(a.out.String(), "does not apply the shard selector") {
			t.Errorf("shard %d logged a fallback", s)
		}
	}
}

// createGizmos creates the CRD of testdata/server-sharding and n Gizmos in
// ns, removed when the test ends, and returns the custom resource state
// config of their series.
func createGizmos(t *testing.T, ns string, n int) string {
	t.Helper()
	dir := filepath.Join("testdata", "server-sharding")
	crd := filepath.Join(dir, "crd.yaml")
	t.Cleanup(func() { _ = kubectl("delete", "-f", crd, "--ignore-not-found", "--wait=true", "--timeout=60s") })
	if err := kubectl("apply", "-f", crd); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crd); err != nil {
		t.Fatal(err)
	}
	var objects strings.Builder
	for i := range n {
		fmt.Fprintf(&objects, "---\napiVersion: shard.example.com/v1\nkind: Gizmo\nmetadata: {name: g%d, namespace: %s}\n", i, ns)
	}
	file := filepath.Join(t.TempDir(), "gizmos.yaml")
	if err := os.WriteFile(file, []byte(objects.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("apply", "-f", file); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "config.yaml")
}
