package rwconfig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Prometheus's azuread sets the cloud's Microsoft Entra authority host
// (https://login.microsoftonline.com/ for AzurePublic) itself, so neither
// AZURE_AUTHORITY_HOST nor any option can point oauth, certificate or
// workload_identity at a local server. TestHTTPClientAzureADEntraID runs them
// in a child process whose HTTPS_PROXY is a local proxy that never dials out:
// it takes CONNECT to login.microsoftonline.com:443 only, and tunnels it to a
// local TLS stand-in for Entra ID whose certificate is signed by a test CA
// that the child trusts through SSL_CERT_FILE. Any other CONNECT is refused,
// and the child checks before anything else that its proxy is the local one,
// so no request can leave the machine.

const entraHost = "login.microsoftonline.com"

// entraChildEnv names the configuration file that the child loads.
const entraChildEnv = "KSP_TEST_ENTRA_CHILD_CONFIG"

// entraStandIn is the stand-in for Entra ID's OpenID configuration and token
// endpoints of one tenant, for the client credentials grant.
type entraStandIn struct {
	tenant, clientID, token string
	// check checks the client's credential in a token request.
	check func(form url.Values) error

	mu       sync.Mutex
	requests []string // method and path of each request
	tokens   int      // token requests answered
	problems []string
}

func (s *entraStandIn) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func (s *entraStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	base := "https://" + entraHost + "/" + s.tenant
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/common/discovery/instance":
		if a := r.URL.Query().Get("authorization_endpoint"); a != base+"/oauth2/v2.0/authorize" {
			s.problem("instance discovery for %q", a)
		}
		fmt.Fprintf(w, `{"tenant_discovery_endpoint":%q,"api-version":"1.1","metadata":[{"preferred_network":%q,"preferred_cache":"login.windows.net","aliases":[%q,"login.windows.net"]}]}`,
			base+"/v2.0/.well-known/openid-configuration", entraHost, entraHost)
	case r.Method == http.MethodGet && r.URL.Path == "/"+s.tenant+"/v2.0/.well-known/openid-configuration":
		fmt.Fprintf(w, `{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q}`,
			base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize", base+"/v2.0")
	case r.Method == http.MethodPost && r.URL.Path == "/"+s.tenant+"/oauth2/v2.0/token":
		if err := r.ParseForm(); err != nil {
			s.problem("token request: %v", err)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		f := r.PostForm
		err := s.check(f)
		if err == nil && (f.Get("grant_type") != "client_credentials" || f.Get("client_id") != s.clientID ||
			!strings.Contains(" "+f.Get("scope")+" ", " https://monitor.azure.com//.default ")) {
			err = fmt.Errorf("grant_type %q, client_id %q, scope %q: want client_credentials for %s and the Azure Monitor audience",
				f.Get("grant_type"), f.Get("client_id"), f.Get("scope"), s.clientID)
		}
		if err != nil {
			s.problem("token request: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: stand-in refused the credential"}`)
			return
		}
		s.mu.Lock()
		s.tokens++
		s.mu.Unlock()
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, s.token)
	default:
		s.problem("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

// checkClientAssertion checks a JWT client assertion (RFC 7523) for the
// client: signed with pub (PS256 or RS256) if pub is not nil, for the token
// endpoint, by and about clientID.
func checkClientAssertion(f url.Values, pub *rsa.PublicKey, clientID, tokenURL string) error {
	if t := f.Get("client_assertion_type"); t != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return fmt.Errorf("client_assertion_type %q", t)
	}
	parts := strings.Split(f.Get("client_assertion"), ".")
	if len(parts) != 3 {
		return fmt.Errorf("client_assertion is not a JWT")
	}
	dec := func(s string, v any) error {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	var header struct{ Alg string }
	var claims struct{ Iss, Sub, Aud string }
	if err := dec(parts[0], &header); err != nil {
		return err
	}
	if err := dec(parts[1], &claims); err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		err = fmt.Errorf("alg %q", header.Alg)
	}
	if err != nil {
		return fmt.Errorf("client_assertion not signed by the certificate's key: %v", err)
	}
	if claims.Iss != clientID || claims.Sub != clientID || claims.Aud != tokenURL {
		return fmt.Errorf("client_assertion claims %+v: want iss and sub %s, aud %s", claims, clientID, tokenURL)
	}
	return nil
}

// issueRSA returns a certificate for dnsName signed by the CA, with a new RSA
// key, both in PEM, and the key.
func (ca *testCA) issueRSA(t *testing.T, dnsName string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, key *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: dnsName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     []string{dnsName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), key
}

// localConnectProxy tunnels CONNECT to entraHost:443, and nothing else, to
// the local address target. It never dials anything but target.
func localConnectProxy(t *testing.T, target string) (proxyURL string, refused func() []string) {
	var (
		mu  sync.Mutex
		bad []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != entraHost+":443" {
			mu.Lock()
			bad = append(bad, r.Method+" "+r.Host)
			mu.Unlock()
			http.Error(w, "this test proxy tunnels only to the Entra ID stand-in", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			conn.Close()
			up.Close()
			return
		}
		go func() {
			// Bytes the client sent after CONNECT may already be buffered.
			_, _ = io.Copy(up, io.MultiReader(buf.Reader, conn))
			up.Close()
		}()
		go func() {
			_, _ = io.Copy(conn, up)
			conn.Close()
		}()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bad...)
	}
}

func TestHTTPClientAzureADEntraID(t *testing.T) {
	if os.Getenv(entraChildEnv) != "" {
		t.Skip("in the child process")
	}
	ca := newTestCA(t)
	serverCert, serverKey, _ := ca.issueRSA(t, entraHost, x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey, clientRSA := ca.issueRSA(t, "kube-state-push", x509.ExtKeyUsageClientAuth)

	tenant := uuid.NewString()
	tokenURL := "https://" + entraHost + "/" + tenant + "/oauth2/v2.0/token"
	for _, tc := range []struct {
		name    string
		azuread func(dir, clientID string) string
		check   func(clientID string) func(url.Values) error
		refused bool // the stand-in refuses the credential
	}{
		{
			name: "oauth client secret",
			azuread: func(_, id string) string {
				return "{oauth: {client_id: " + id + ", client_secret: S3cr3t-client-secret, tenant_id: " + tenant + "}}"
			},
			check: func(string) func(url.Values) error {
				return func(f url.Values) error {
					if f.Get("client_secret") != "S3cr3t-client-secret" {
						return fmt.Errorf("client_secret %q", f.Get("client_secret"))
					}
					return nil
				}
			},
		},
		{
			name: "oauth client secret refused",
			azuread: func(_, id string) string {
				return "{oauth: {client_id: " + id + ", client_secret: S3cr3t-revoked-secret, tenant_id: " + tenant + "}}"
			},
			check: func(string) func(url.Values) error {
				return func(url.Values) error { return fmt.Errorf("revoked") }
			},
			refused: true,
		},
		{
			name: "certificate",
			azuread: func(dir, id string) string {
				return "{certificate: {client_id: " + id + ", tenant_id: " + tenant + ", certificate_path: " +
					filepath.Join(dir, "client.pem") + ", certificate_key_path: " + filepath.Join(dir, "client-key.pem") + "}}"
			},
			check: func(id string) func(url.Values) error {
				return func(f url.Values) error { return checkClientAssertion(f, &clientRSA.PublicKey, id, tokenURL) }
			},
		},
		{
			name: "workload identity",
			azuread: func(dir, id string) string {
				return "{workload_identity: {client_id: " + id + ", tenant_id: " + tenant + ", token_file_path: " +
					filepath.Join(dir, "sa-token") + "}}"
			},
			check: func(string) func(url.Values) error {
				return func(f url.Values) error {
					if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
						f.Get("client_assertion") != "projected-service-account-token" {
						return fmt.Errorf("client assertion %q of type %q: want the token file's contents",
							f.Get("client_assertion"), f.Get("client_assertion_type"))
					}
					return nil
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			entra := &entraStandIn{tenant: tenant, clientID: id, token: "entra-token-" + id, check: tc.check(id)}
			tlsSrv := httptest.NewUnstartedServer(entra)
			tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
			tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
			tlsSrv.StartTLS()
			defer tlsSrv.Close()
			proxy, refused := localConnectProxy(t, tlsSrv.Listener.Addr().String())
			rc := newReceiver(t)

			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"ca.pem": string(ca.pem), "client.pem": string(clientCert), "client-key.pem": string(clientKey),
				"sa-token": "projected-service-account-token",
				"rw.yaml": y(
					"remote_write:",
					"  - url: "+rc.URL+"/dataCollectionRules/dcr-1/streams/Microsoft-PrometheusMetrics/api/v1/write",
					"    azuread: "+tc.azuread(dir, id),
				),
			})
			if err := os.Mkdir(filepath.Join(dir, "certs"), 0o700); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^TestAzureADEntraIDChild$", "-test.count=1", "-test.v")
			wantErr := ""
			if tc.refused {
				wantErr = "AADSTS7000215"
			}
			cmd.Env = entraChildEnviron(map[string]string{
				entraChildEnv:         filepath.Join(dir, "rw.yaml"),
				"KSP_TEST_WANT_ERROR": wantErr,
				"KSP_TEST_PROXY":      proxy,
				"HTTPS_PROXY":         proxy,
				"https_proxy":         proxy,
				"SSL_CERT_FILE":       filepath.Join(dir, "ca.pem"),
				"SSL_CERT_DIR":        filepath.Join(dir, "certs"),
			})
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err != nil || !strings.Contains(out.String(), "--- PASS: TestAzureADEntraIDChild") {
				t.Fatalf("child: %v\n%s", err, out.String())
			}
			if strings.Contains(out.String(), secretMark) {
				t.Errorf("the child's output shows a secret:\n%s", out.String())
			}

			entra.mu.Lock()
			defer entra.mu.Unlock()
			if r := refused(); len(r) > 0 {
				t.Errorf("the proxy refused %q", r)
			}
			if tc.refused {
				if entra.tokens != 0 || len(rc.requests()) != 0 {
					t.Errorf("%d tokens issued, receiver saw %q: want none", entra.tokens, rc.requests())
				}
				return
			}
			if len(entra.problems) > 0 {
				t.Errorf("Entra ID stand-in: %s", strings.Join(entra.problems, "; "))
			}
			if entra.tokens != 1 {
				t.Errorf("%d tokens issued, want 1; requests %q", entra.tokens, entra.requests)
			}
			want := "Bearer " + entra.token + " | "
			if got := rc.requests(); len(got) != 2 || got[0] != want || got[1] != want {
				t.Errorf("receiver saw %q, want %q twice", got, want)
			}
		})
	}
}

// entraChildEnviron is this process's environment without the variables
// that choose an Azure credential or a proxy, with set added.
func entraChildEnviron(set map[string]string) []string {
	drop := map[string]bool{"HTTP_PROXY": true, "http_proxy": true, "NO_PROXY": true, "no_proxy": true,
		"ALL_PROXY": true, "all_proxy": true, "REQUEST_METHOD": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || set[k] != "" || strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "IDENTITY_") ||
			strings.HasPrefix(k, "MSI_") || k == "IMDS_ENDPOINT" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// TestAzureADEntraIDChild is the child process of TestHTTPClientAzureADEntraID.
func TestAzureADEntraIDChild(t *testing.T) {
	path := os.Getenv(entraChildEnv)
	if path == "" {
		t.Skip("run by TestHTTPClientAzureADEntraID")
	}
	// Fail closed: Entra ID must be reached through the local proxy only.
	req, err := http.NewRequest(http.MethodGet, "https://"+entraHost+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := http.ProxyFromEnvironment(req)
	if want := os.Getenv("KSP_TEST_PROXY"); err != nil || proxy == nil || proxy.String() != want || !strings.HasPrefix(want, "http://127.0.0.1:") {
		t.Fatalf("proxy for %s is %v (%v), want the local %s", entraHost, proxy, err, want)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	if want := os.Getenv("KSP_TEST_WANT_ERROR"); want != "" {
		// A refused credential fails the request, without showing a secret.
		_, err := push(t, ep, hc)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error saying %s", err, want)
		}
		if strings.Contains(err.Error(), secretMark) {
			t.Errorf("error shows a secret: %v", err)
		}
		return
	}
	for range 2 {
		if code, err := push(t, ep, hc); err != nil || code != http.StatusNoContent {
			t.Fatalf("got %d, %v; want 204", code, err)
		}
	}
}
