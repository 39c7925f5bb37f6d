package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// receiverProc is an extra Prometheus receiver a test starts beside the
// cluster's.
type receiverProc struct {
	url    string
	client *http.Client
	user   string
	pass   string
}

// prometheus3 is the cached Prometheus 3.16 binary, prometheus2 the cached
// Prometheus 2.42 (module v0.42.0), a Remote-Write 1.0-only receiver.
func prometheus3(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("KSP_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(dir, "kube-state-push")
	}
	bin := filepath.Join(cache, "bin", "prometheus-v0.316.0")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prometheus 3.16 not built (hack/build-components.sh): %v", err)
	}
	return bin
}

func prometheus2(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(filepath.Dir(prometheus3(t)), "prometheus2-v0.42.0")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prometheus 2.42 not built (hack/build-components.sh prometheus2): %v", err)
	}
	return bin
}

// startReceiver starts a Prometheus with its remote-write receiver on a free
// loopback port, and stops it (by pid) when the test ends. webConfig, when
// set, is its --web.config.file (TLS, basic auth); r carries the client and
// credentials to reach it, and gets its URL.
func startReceiver(t *testing.T, r *receiverProc, bin, webConfig, scheme string, extra ...string) *receiverProc {
	t.Helper()
	return startPrometheus(t, r, bin, "global: {}\n", webConfig, scheme, extra...)
}

// startPrometheus is startReceiver with config as its configuration file.
func startPrometheus(t *testing.T, r *receiverProc, bin, config, webConfig, scheme string, extra ...string) *receiverProc {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--web.enable-remote-write-receiver",
	}, extra...)
	if webConfig != "" {
		args = append(args, "--web.config.file="+webConfig)
	}
	cmd := exec.Command(bin, args...)
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = log.Close()
	})
	r.url = fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
	if r.client == nil {
		r.client = http.DefaultClient
	}
	eventually(t, 60*time.Second, "receiver ready", func() error {
		req, _ := http.NewRequest(http.MethodGet, r.url+"/-/ready", nil)
		if r.user != "" {
			req.SetBasicAuth(r.user, r.pass)
		}
		resp, err := r.client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s", resp.Status)
		}
		return nil
	})
	return r
}

// tlsReceiver starts a Prometheus 3.16 that serves TLS with a certificate of a
// CA made here, and asks for basic auth. It returns the receiver and the CA file.
func tlsReceiver(t *testing.T, user, pass string) (*receiverProc, string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.crt", "CERTIFICATE", caDER)
	certFile := write("server.crt", "CERTIFICATE", der)
	keyFile := write("server.key", "EC PRIVATE KEY", keyDER)
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
		certFile, keyFile, user, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	r := startReceiver(t, &receiverProc{client: client, user: user, pass: pass}, prometheus3(t), web, "https")
	return r, caFile
}

// query runs an instant query against the receiver.
func (r *receiverProc) query(q string) ([]promSample, error) {
	return queryURL(r.client, r.url, r.user, r.pass, q, time.Now())
}
