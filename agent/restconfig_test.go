package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes"
)

// The agent's client asks for protobuf and no compression: watch streams are
// not gzipped, which would cost CPU on every event. (TLS, as every apiserver:
// client-go uses Go's default transport, compression included, without it.)
func TestRestConfigAsksForUncompressedProtobuf(t *testing.T) {
	var mu sync.Mutex
	var accept, encoding, agent string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accept, encoding, agent = r.Header.Get("Accept"), r.Header.Get("Accept-Encoding"), r.Header.Get("User-Agent")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	doc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + srv.URL +
		"\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n"
	if err := os.WriteFile(kubeconfig, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := restConfig(kubeconfig, "v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().RESTClient().Get().AbsPath("/version").Do(context.Background()).Raw(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if encoding != "" {
		t.Errorf("Accept-Encoding = %q, want none", encoding)
	}
	if !strings.HasPrefix(accept, "application/vnd.kubernetes.protobuf") {
		t.Errorf("Accept = %q", accept)
	}
	if !strings.Contains(agent, "v9.9.9") {
		t.Errorf("User-Agent = %q", agent)
	}
}
