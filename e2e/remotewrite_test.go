package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRemoteWriteConfig pastes a Prometheus remote_write block with three
// endpoints: the cluster's Prometheus 3.16 over Remote-Write 2.0 with
// external labels and a write_relabel_configs drop, a Prometheus 3.16 behind
// TLS (a CA made here) and basic auth (password from a file), and a
// Prometheus 2.42 configured for 2.0, which it silently drops, so the agent
// falls back to 1.0. Every endpoint gets the data, as the config says.
func TestRemoteWriteConfig(t *testing.T) {
	ns := "e2e-rw"
	createNamespace(t, ns)
	createPendingPod(t, ns, "p")

	tlsRcv, caFile := tlsReceiver(t, "agent", "s3cret-pass")
	oldRcv := startReceiver(t, &receiverProc{}, prometheus2(t), "", "http")

	dir := t.TempDir()
	passFile := filepath.Join(dir, "password")
	if err := os.WriteFile(passFile, []byte("s3cret-pass"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`resources: [pods, namespaces]
namespaces: [%[1]s]
external_labels:
  cluster: e2e
remote_write:
  - name: v2
    url: %[2]s/api/v1/write
    protobuf_message: io.prometheus.write.v2.Request
    write_relabel_configs:
      - source_labels: [__name__]
        regex: kube_pod_tolerations|kube_pod_scheduler
        action: drop
  - name: secured
    url: %[3]s/api/v1/write
    basic_auth:
      username: agent
      password_file: %[4]s
    tls_config:
      ca_file: %[5]s
  - name: old
    url: %[6]s/api/v1/write
    protobuf_message: io.prometheus.write.v2.Request
`, ns, env.promURL, tlsRcv.url, passFile, caFile, oldRcv.url)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "--config", cfg)

	phase := `kube_pod_status_phase{namespace="e2e-rw",pod="p",phase="Pending",cluster="e2e"}`
	for name, q := range map[string]func(string) ([]promSample, error){
		"v2": query, "secured": tlsRcv.query, "old": oldRcv.query,
	} {
		eventually(t, 20*time.Second, name+": pod with the external label", func() error {
			res, err := q(phase)
			if err != nil {
				return err
			}
			if len(res) != 1 || res[0].Value != 1 {
				return fmt.Errorf("%s: %v", phase, res)
			}
			return nil
		})
	}
	// write_relabel_configs apply to their endpoint only.
	if res, err := query(`kube_pod_tolerations{namespace="e2e-rw"}`); err != nil || len(res) != 0 {
		t.Errorf("v2: dropped family arrived: %v %v", res, err)
	}
	if res, err := tlsRcv.query(`kube_pod_scheduler{namespace="e2e-rw"}`); err != nil || len(res) != 1 {
		t.Errorf("secured: family dropped on another endpoint missing: %v %v", res, err)
	}
	for _, c := range []struct {
		metric string
		want   float64
	}{
		{`kube_state_push_remote_write_protobuf_message{endpoint="v2",protobuf_message="io.prometheus.write.v2.Request"}`, 1},
		{`kube_state_push_remote_write_protobuf_message{endpoint="old",protobuf_message="prometheus.WriteRequest"}`, 1},
		{`kube_state_push_remote_write_protobuf_message{endpoint="secured",protobuf_message="prometheus.WriteRequest"}`, 1},
		{`kube_state_push_remote_write_samples_dropped_total`, 0},
	} {
		if got := a.metric(c.metric); got != c.want {
			t.Errorf("%s = %v, want %v", c.metric, got, c.want)
		}
	}
	if got := a.metric(`kube_state_push_remote_write_requests_total{endpoint="old",result="fallback"}`); got < 1 {
		t.Errorf("the 1.0-only receiver caused no fallback")
	}
	if got := a.metric(`kube_state_push_remote_write_samples_sent_total{endpoint="secured"}`); got == 0 {
		t.Errorf("nothing sent to the TLS endpoint")
	}
}

// TestConfigReload changes the config file under a running agent: a valid
// change is applied (a new external label value shows up), a broken one is
// rejected with a metric while the running configuration stays, and SIGHUP
// applies the file again.
func TestConfigReload(t *testing.T) {
	ns := "e2e-reload"
	createNamespace(t, ns)
	createPendingPod(t, ns, "p")
	run := fmt.Sprint(time.Now().UnixNano()) // values of this run only
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	write := func(cluster string, extra string) {
		t.Helper()
		body := fmt.Sprintf("resources: [pods]\nnamespaces: [%s]\nexternal_labels:\n  cluster: %s-%s\nremote_write:\n  - name: main\n    url: %s/api/v1/write\n%s",
			ns, cluster, run, env.promURL, extra)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(cluster string) func() error {
		return func() error {
			return queryValue(fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="p",phase="Pending",cluster="%s-%s"}`, ns, cluster, run), 1)
		}
	}
	write("one", "")
	a := startAgent(t, "--config", cfg)
	eventually(t, 10*time.Second, "first configuration", seen("one"))

	write("two", "")
	eventually(t, 30*time.Second, "changed file applied", seen("two"))

	write("three", "    queue_config: {max_shards: 0}\n") // invalid
	eventually(t, 20*time.Second, "broken file rejected", func() error {
		if v := a.metric("kube_state_push_config_reload_failures_total"); v < 1 {
			return fmt.Errorf("no reload failure counted yet")
		}
		return nil
	})
	if err := seen("two")(); err != nil {
		t.Errorf("the running configuration did not stay: %v", err)
	}

	write("four", "")
	eventually(t, 30*time.Second, "fixed file applied", seen("four"))
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "SIGHUP applied, agent ready again", func() error {
		if v := a.metric("kube_state_push_config_reloads_total"); v < 3 {
			return fmt.Errorf("%v reloads counted, want 3 (two file changes and SIGHUP)", v)
		}
		return a.readyErr()
	})
	eventually(t, 10*time.Second, "still sending after SIGHUP", seen("four"))
}

// TestDeadEndpoint sends to a live and a dead endpoint, with and without a
// WAL: the live one gets everything while the dead one is retried.
func TestDeadEndpoint(t *testing.T) {
	for _, withWAL := range []bool{false, true} {
		t.Run(fmt.Sprintf("wal=%v", withWAL), func(t *testing.T) {
			ns := fmt.Sprintf("e2e-dead-%v", withWAL)
			createNamespace(t, ns)
			port, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`resources: [pods]
namespaces: [%s]
remote_write:
  - name: dead
    url: http://127.0.0.1:%d/api/v1/write
  - name: live
    url: %s/api/v1/write
`, ns, port, env.promURL)), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"--config", cfg}
			if withWAL {
				args = append(args, "--wal-dir", t.TempDir())
			}
			a := launchAgent(t, args...)
			for _, p := range []string{"one", "two"} {
				createPendingPod(t, ns, p)
				eventually(t, 15*time.Second, "pod "+p+" at the live endpoint", func() error {
					return queryValue(fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod=%q,phase="Pending"}`, ns, p), 1)
				})
			}
			if v := a.metric(`kube_state_push_remote_write_requests_total{endpoint="dead",result="retried"}`); v == 0 {
				t.Errorf("the dead endpoint was not retried")
			}
		})
	}
}
