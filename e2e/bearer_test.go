package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bearerGate is a reverse proxy in front of the cluster's Prometheus that
// lets through only requests with one of the accepted bearer tokens, as an
// authenticating gateway in front of Mimir or Thanos does.
type bearerGate struct {
	mu       sync.Mutex
	accepted map[string]bool
	seen     map[string]int // requests by Authorization header
	refused  atomic.Int64
	proxy    *httputil.ReverseProxy
}

func (g *bearerGate) accept(tokens ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.accepted = map[string]bool{}
	for _, t := range tokens {
		g.accepted["Bearer "+t] = true
	}
}

// requests returns how many requests came with token.
func (g *bearerGate) requests(token string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen["Bearer "+token]
}

func (g *bearerGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	ok := g.accepted[r.Header.Get("Authorization")]
	if g.seen == nil {
		g.seen = map[string]int{}
	}
	g.seen[r.Header.Get("Authorization")]++
	g.mu.Unlock()
	if !ok {
		g.refused.Add(1)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// TestBearerTokenRotation sends through a gateway that checks a bearer token
// read from a file, rotates the token while the agent runs, and checks that
// what is produced after the rotation still arrives, with nothing refused.
func TestBearerTokenRotation(t *testing.T) {
	ns := "e2e-bearer"
	createNamespace(t, ns)
	target, err := url.Parse(env.promURL)
	if err != nil {
		t.Fatal(err)
	}
	gate := &bearerGate{proxy: httputil.NewSingleHostReverseProxy(target)}
	gate.accept("first-token")
	srv := httptest.NewServer(gate)
	defer srv.Close()

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	writeToken := func(tok string) {
		t.Helper()
		tmp := tokenFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, tokenFile); err != nil {
			t.Fatal(err)
		}
	}
	writeToken("first-token")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`resources: [pods]
namespaces: [%s]
remote_write:
  - name: gateway
    url: %s/api/v1/write
    authorization:
      type: Bearer
      credentials_file: %s
`, ns, srv.URL, tokenFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "--config", cfg)
	createPendingPod(t, ns, "before")
	eventually(t, 10*time.Second, "pod sent with the first token", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-bearer",pod="before",phase="Pending"}`, 1)
	})

	// Rotate: the gateway accepts both while the file changes, then only the
	// new token.
	gate.accept("first-token", "second-token")
	writeToken("second-token")
	eventually(t, 10*time.Second, "a request with the new token", func() error {
		if gate.requests("second-token") == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	gate.accept("second-token")
	rotated := time.Now()
	createPendingPod(t, ns, "after")
	eventually(t, 10*time.Second, "pod sent with the rotated token", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-bearer",pod="after",phase="Pending"}`, 1)
	})
	// Resends go through too: an unchanged series gets samples after the rotation.
	eventually(t, 4*resendInterval+10*time.Second, "two resends after the rotation", func() error {
		q := fmt.Sprintf(`count_over_time(kube_pod_status_phase{namespace="e2e-bearer",pod="before",phase="Pending"}[%dms])`,
			time.Since(rotated).Milliseconds())
		res, err := query(q)
		if err != nil || len(res) != 1 || res[0].Value < 2 {
			return fmt.Errorf("%s: %v %v", q, res, err)
		}
		return nil
	})
	if n := gate.refused.Load(); n != 0 {
		t.Errorf("the gateway refused %d requests", n)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
}
