package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

// ksmVersion is the kube-state-metrics release the parity test compares with;
// hack/build-components.sh builds it into the component cache.
const ksmVersion = "v2.20.0"

// ksmProc is a running kube-state-metrics.
type ksmProc struct {
	cmd        *exec.Cmd
	metricsURL string
	out        *syncBuffer
	done       chan error
}

// ksmBinary returns the path hack/build-components.sh caches KSM at.
func ksmBinary() (string, error) {
	cache := os.Getenv("KSP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("component cache: %w", err)
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "kube-state-push")
	}
	bin := filepath.Join(cache, "bin", "kube-state-metrics-"+ksmVersion)
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("kube-state-metrics %s (run hack/build-components.sh ksm): %w", ksmVersion, err)
	}
	return bin, nil
}

// startKSM runs KSM against the cluster on free loopback ports with the given
// flags and waits until its /metrics has answered with the same number of
// series for a second (its reflectors have listed). It is stopped, by its pid, when
// the test ends.
func startKSM(t *testing.T, flags ...string) *ksmProc {
	t.Helper()
	bin, err := ksmBinary()
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	telemetry, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	k := &ksmProc{metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), out: &syncBuffer{}, done: make(chan error, 1)}
	args := append([]string{
		"--kubeconfig", env.kubeconfig,
		"--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--telemetry-host", "127.0.0.1", "--telemetry-port", fmt.Sprint(telemetry),
	}, flags...)
	k.cmd = exec.Command(bin, args...)
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { k.done <- k.cmd.Wait() }()
	t.Cleanup(func() {
		k.stop(t)
		if t.Failed() {
			t.Logf("kube-state-metrics output:\n%s", k.out.String())
		}
	})
	last, since := -1, time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	eventually(t, 90*time.Second, "kube-state-metrics serving a stable exposition", func() error {
		select {
		case err := <-k.done:
			k.done <- err
			return fmt.Errorf("kube-state-metrics exited: %v\n%s", err, k.out.String())
		default:
		}
		e, err := parity.ScrapeKSM(context.Background(), client, k.metricsURL)
		if err != nil {
			return err
		}
		if n := e.Series(); n == 0 || n != last {
			last, since = n, time.Now()
			return fmt.Errorf("%d series, not yet stable", n)
		}
		if time.Since(since) < time.Second {
			return fmt.Errorf("%d series for less than a second", last)
		}
		return nil
	})
	return k
}

// stop ends KSM by its pid: SIGTERM, then SIGKILL after 10 s.
func (k *ksmProc) stop(t *testing.T) {
	t.Helper()
	if k.cmd.Process == nil || k.cmd.ProcessState != nil {
		return
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-k.done:
		t.Logf("kube-state-metrics stopped: %v", err)
	case <-time.After(10 * time.Second):
		_ = k.cmd.Process.Kill()
		t.Errorf("kube-state-metrics did not stop within 10s after SIGTERM (then killed: %v)", <-k.done)
	}
}
