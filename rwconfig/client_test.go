package rwconfig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kube-state-push test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate signed by the CA, and its key, in PEM.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// loadIn writes doc as rw.yaml in dir and loads it.
func loadIn(t *testing.T, dir, doc string) Config {
	t.Helper()
	writeFiles(t, dir, map[string]string{"rw.yaml": doc})
	cfg, err := Load(filepath.Join(dir, "rw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// push POSTs a body through the endpoint's client and returns the status.
func push(t *testing.T, ep Endpoint, hc *http.Client) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestHTTPClientTLSAndBasicAuth(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "receiver", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue(t, "kube-state-push", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	type seen struct {
		user, password, tenant, agent, clientCN string
	}
	var (
		mu   sync.Mutex
		last seen
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, _ := r.BasicAuth()
		mu.Lock()
		last = seen{user, password, r.Header.Get("X-Scope-OrgID"), r.UserAgent(), r.TLS.PeerCertificates[0].Subject.CommonName}
		mu.Unlock()
		if user != "ksp" || password != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake below
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ca.pem": string(ca.pem), "client.pem": string(clientCert), "client-key.pem": string(clientKey),
		"password": "s3cret\n",
	})
	cfg := loadIn(t, dir, y(
		"remote_write:",
		"  - url: "+srv.URL+"/api/v1/push",
		"    headers: {X-Scope-OrgID: team-a}",
		"    basic_auth:",
		"      username: ksp",
		"      password_file: password", // relative to rw.yaml
		"    tls_config:",
		"      ca_file: ca.pem",
		"      cert_file: client.pem",
		"      key_file: client-key.pem",
		"  - url: "+srv.URL+"/api/v1/push",
		"    name: without-ca",
		"    basic_auth: {username: ksp, password: s3cret}",
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	code, err := push(t, ep, hc)
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("got %d, %v; want 204", code, err)
	}
	want := seen{"ksp", "s3cret", "team-a", "kube-state-push/test", "kube-state-push"}
	if last != want {
		t.Errorf("receiver saw %+v, want %+v", last, want)
	}

	// Without the CA, the receiver's certificate is not trusted.
	other := cfg.RemoteWrite[1]
	hc, err = other.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push(t, other, hc); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("got %v, want a certificate error", err)
	}
}

func TestHTTPClientRotatedBearerToken(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"token": "first-token\n"})
	cfg := loadIn(t, dir, y(
		"remote_write:",
		"  - url: "+srv.URL+"/api/v1/write",
		"    authorization:",
		"      credentials_file: token",
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push(t, ep, hc); err != nil {
		t.Fatal(err)
	}
	// Rotate as Kubernetes does for a mounted Secret: a new file renamed over.
	writeFiles(t, dir, map[string]string{"token.new": "second-token"})
	if err := os.Rename(filepath.Join(dir, "token.new"), filepath.Join(dir, "token")); err != nil {
		t.Fatal(err)
	}
	if _, err := push(t, ep, hc); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"Bearer first-token", "Bearer second-token"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("receiver saw %q, want %q", seen, want)
	}
}

func TestHTTPClientSigV4(t *testing.T) {
	// Keep the machine's AWS configuration out of the test.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	var (
		mu   sync.Mutex
		auth string
		date string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth, date = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	cfg := loadIn(t, t.TempDir(), y(
		"remote_write:",
		"  - url: "+srv.URL+"/workspaces/ws-0123/api/v1/remote_write",
		"    sigv4:",
		"      region: eu-west-1",
		"      access_key: AKIDEXAMPLE",
		"      secret_key: wJalrXUtnFEMI-example",
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push(t, ep, hc); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/aps/aws4_request") || date == "" {
		t.Errorf("Authorization %q, X-Amz-Date %q: want a SigV4 signature for aps in eu-west-1", auth, date)
	}
}

func TestHTTPClientProxy(t *testing.T) {
	var (
		mu     sync.Mutex
		target string
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		target = r.URL.String() // absolute-form through a proxy
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer proxy.Close()
	cfg := loadIn(t, t.TempDir(), y(
		"remote_write:",
		"  - url: http://receiver.invalid/api/v1/push",
		"    proxy_url: "+proxy.URL,
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if code, err := push(t, ep, hc); err != nil || code != http.StatusNoContent {
		t.Fatalf("got %d, %v", code, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if target != "http://receiver.invalid/api/v1/push" {
		t.Errorf("proxy saw %q", target)
	}
}

func TestHTTPClientRoundRobinDNS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg := loadIn(t, t.TempDir(), y(
		"remote_write:",
		"  - url: "+srv.URL+"/push",
		"    round_robin_dns: true",
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if code, err := push(t, ep, hc); err != nil || code != http.StatusNoContent {
		t.Fatalf("got %d, %v", code, err)
	}
}
