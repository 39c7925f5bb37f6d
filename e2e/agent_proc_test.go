package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// agentProc is a running kube-state-push binary.
type agentProc struct {
	cmd       *exec.Cmd
	telemetry string
	out       *syncBuffer
	done      chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// resendInterval is short in the e2e suite so that resends can be observed quickly.
const resendInterval = 3 * time.Second

// startAgent runs the agent for the four original resources (plus what extra
// adds) against the cluster and the receiver and waits until it is ready. It
// is stopped when the test ends unless stopped before.
func startAgent(t *testing.T, extra ...string) *agentProc {
	t.Helper()
	return startAgentFlags(t, append([]string{"--resources", "pods,deployments,nodes,namespaces"}, extra...)...)
}

// startAgentFlags is startAgent without a --resources flag of its own, so that
// the agent's default resources can be tested.
func startAgentFlags(t *testing.T, extra ...string) *agentProc {
	t.Helper()
	a := launchAgent(t, extra...)
	a.waitReady(t)
	return a
}

// launchAgent starts the agent without waiting for it to be ready.
func launchAgent(t *testing.T, extra ...string) *agentProc {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	a := &agentProc{telemetry: fmt.Sprintf("127.0.0.1:%d", port), out: &syncBuffer{}, done: make(chan error, 1)}
	// A --config file names its own endpoints; otherwise the agent pushes to
	// the cluster's Prometheus.
	var target []string
	if !slices.Contains(extra, "--config") {
		target = []string{"--remote-write-url", env.promURL + "/api/v1/write"}
	}
	args := append(append(target, []string{
		"--kubeconfig", env.kubeconfig,
		"--telemetry-address", a.telemetry,
		"--resend-interval", resendInterval.String(),
		"--flush-interval", "100ms",
		"--log-level", "debug",
	}...), extra...)
	a.cmd = exec.Command(env.binary, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			a.stop(t)
		}
		if t.Failed() {
			t.Logf("agent output:\n%s", a.out.String())
		}
	})
	return a
}

// waitReady waits until /readyz answers 200.
func (a *agentProc) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, 90*time.Second, "agent ready", func() error {
		select {
		case err := <-a.done:
			a.done <- err
			return fmt.Errorf("agent exited: %v\n%s", err, a.out.String())
		default:
		}
		return a.readyErr()
	})
}

// readyErr is nil when /readyz answers 200.
func (a *agentProc) readyErr() error {
	resp, err := http.Get("http://" + a.telemetry + "/readyz")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// stop sends SIGTERM and expects a clean exit within the flush deadline.
func (a *agentProc) stop(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("signal agent: %v", err)
	}
	select {
	case err := <-a.done:
		if err != nil {
			t.Errorf("agent exit: %v\n%s", err, a.out.String())
		}
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		t.Errorf("agent did not stop within 30s after SIGTERM")
	}
}

func (a *agentProc) metric(prefix string) float64 {
	v, _ := scrapeCounter("http://"+a.telemetry+"/metrics", prefix)
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// kill9 kills the agent with SIGKILL and waits for it to be gone.
func (a *agentProc) kill9(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill agent: %v", err)
	}
	select {
	case err := <-a.done:
		t.Logf("agent killed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("agent still running 10s after SIGKILL")
	}
}

// Go profiles are served only with --enable-pprof.
func TestPprofOptIn(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		var flags []string
		if enabled {
			flags = []string{"--enable-pprof"}
		}
		a := startAgent(t, flags...)
		resp, err := http.Get("http://" + a.telemetry + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "heap profile"); got != enabled {
			t.Errorf("--enable-pprof=%v: /debug/pprof/heap answered %s", enabled, resp.Status)
		}
		a.stop(t)
	}
}
