package rwconfig

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// These tests never leave the machine: every token comes from an httptest
// server that the credential is pointed at through its own configuration
// (google_iam's token_uri) or through the environment that azidentity reads on
// Azure hosts (App Service's IDENTITY_ENDPOINT and IDENTITY_HEADER).

// receiver records the Authorization and X-Scope-OrgID headers of each request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.seen = append(rc.seen, r.Header.Get("Authorization")+" | "+r.Header.Get("X-Scope-OrgID"))
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...)
}

// isolateGoogle keeps the machine's Google configuration out of a test: no
// default credentials file, no gcloud configuration, no client certificate,
// no S2A and no regional access boundary lookups (which would ask the
// metadata server or Google).
func isolateGoogle(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", dir)
	t.Setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
	t.Setenv("GOOGLE_API_CERTIFICATE_CONFIG", filepath.Join(dir, "none.json"))
	t.Setenv("EXPERIMENTAL_GOOGLE_API_USE_S2A", "false")
	t.Setenv("GOOGLE_AUTH_TRUST_BOUNDARY_ENABLED", "false")
	t.Setenv("GOOGLE_API_GO_EXPERIMENTAL_DISABLE_NEW_AUTH_LIB", "")
	t.Setenv("GOOGLE_API_GO_EXPERIMENTAL_ENABLE_NEW_AUTH_LIB", "")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:9") // never asked; refused at once if it were
}

// googleTokenServer is an OAuth 2.0 token endpoint for a service account's
// JWT bearer grant (RFC 7523): it checks the assertion's RS256 signature with
// the account's public key and its claims, and answers with token.
type googleTokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func newGoogleTokenServer(t *testing.T, pub *rsa.PublicKey, email, token string) *googleTokenServer {
	ts := &googleTokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.requests++
		ts.mu.Unlock()
		if err := checkJWTBearerGrant(r, pub, email, ts.URL+"/token"); err != nil {
			t.Errorf("token request: %v", err)
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, token)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *googleTokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests
}

func checkJWTBearerGrant(r *http.Request, pub *rsa.PublicKey, email, aud string) error {
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		return fmt.Errorf("%s %s, want POST /token", r.Method, r.URL.Path)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return fmt.Errorf("grant_type %q", g)
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("assertion not signed by the service account's key: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct {
		Iss, Scope, Aud string
		Exp, Iat        int64
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	if claims.Iss != email || claims.Aud != aud || claims.Scope != "https://www.googleapis.com/auth/monitoring.write" || claims.Exp <= claims.Iat {
		return fmt.Errorf("claims %+v: want iss %s, aud %s and the monitoring.write scope", claims, email, aud)
	}
	return nil
}

// serviceAccountJSON returns a service-account key file whose token_uri is tokenURL.
func serviceAccountJSON(t *testing.T, key *rsa.PrivateKey, email, tokenURL string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "ksp-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      "123456789",
		"token_uri":      tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTTPClientGoogleIAM(t *testing.T) {
	isolateGoogle(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const email = "kube-state-push@ksp-test.iam.gserviceaccount.com"
	for _, tc := range []struct {
		name  string
		block func(t *testing.T, credsFile string) string // google_iam's value
	}{
		{"credentials_file", func(_ *testing.T, f string) string { return "{credentials_file: " + f + "}" }},
		{"default credentials from GOOGLE_APPLICATION_CREDENTIALS", func(t *testing.T, f string) string {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", f)
			return "{}"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := "ya29.test-" + strings.ReplaceAll(tc.name, " ", "-")
			tokens := newGoogleTokenServer(t, &key.PublicKey, email, token)
			rc := newReceiver(t)
			dir := t.TempDir()
			creds := filepath.Join(dir, "sa.json")
			writeFiles(t, dir, map[string]string{"sa.json": serviceAccountJSON(t, key, email, tokens.URL+"/token")})
			cfg := loadIn(t, dir, y(
				"remote_write:",
				"  - url: "+rc.URL+"/v1/projects/ksp-test/location/global/prometheus/api/v1/write",
				"    headers: {X-Scope-OrgID: team-a}",
				"    google_iam: "+tc.block(t, creds),
			))
			ep := cfg.RemoteWrite[0]
			hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if code, err := push(t, ep, hc); err != nil || code != http.StatusNoContent {
					t.Fatalf("got %d, %v; want 204", code, err)
				}
			}
			want := "Bearer " + token + " | team-a"
			if got := rc.requests(); len(got) != 2 || got[0] != want || got[1] != want {
				t.Errorf("receiver saw %q, want %q twice", got, want)
			}
			if n := tokens.count(); n != 1 {
				t.Errorf("%d token requests, want 1 (the token is cached until it expires)", n)
			}
		})
	}
}

func TestHTTPClientGoogleIAMSecretsInErrors(t *testing.T) {
	isolateGoogle(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := serviceAccountJSON(t, key, "ksp@ksp-test.iam.gserviceaccount.com", "http://127.0.0.1:9/token")
	var sa map[string]string
	if err := json.Unmarshal([]byte(valid), &sa); err != nil {
		t.Fatal(err)
	}
	withKey := func(k, v string) string {
		m := map[string]string{}
		for a, b := range sa {
			m[a] = b
		}
		m[k] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	rc := newReceiver(t)
	// Each file fails when the client is built or at the first request,
	// before any token request. (A user's credentials file is not refused by
	// google.golang.org/api and would be refreshed at Google's fixed token
	// endpoint, so it has no place in an offline test.)
	for _, tc := range []struct{ name, file string }{
		{"not JSON", "S3cr3t-not-json {"},
		{"a bad private key", withKey("private_key", "-----BEGIN PRIVATE KEY-----\nS3cr3t-key\n-----END PRIVATE KEY-----\n")},
		{"no private key", withKey("private_key", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"sa.json": tc.file})
			cfg := loadIn(t, dir, y(
				"remote_write:",
				"  - url: "+rc.URL+"/api/v1/write",
				"    google_iam: {credentials_file: "+filepath.Join(dir, "sa.json")+"}",
			))
			ep := cfg.RemoteWrite[0]
			hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
			if err != nil && !strings.HasPrefix(err.Error(), "google_iam: ") {
				t.Errorf("error %q does not name google_iam", err)
			}
			if err == nil {
				_, err = push(t, ep, hc)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secretMark) {
				t.Errorf("error shows the credentials file: %v", err)
			}
		})
	}
	if got := rc.requests(); len(got) != 0 {
		t.Errorf("the receiver got %d requests without a token", len(got))
	}
}

// isolateAzure clears the environment that azidentity reads, so that only what
// a test sets chooses the credential.
func isolateAzure(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
		"AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS", "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
		"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
		"MSI_ENDPOINT", "MSI_SECRET", "DEFAULT_IDENTITY_CLIENT_ID",
	} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)  // azidentity tells unset from empty for some
	}
}

// appServiceIdentity is the managed identity endpoint of Azure App Service
// (API version 2019-08-01), which azidentity uses when IDENTITY_ENDPOINT and
// IDENTITY_HEADER are set. It checks the secret header, the resource and the
// client ID, and answers with token.
func appServiceIdentity(t *testing.T, header, resource, clientID, token string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/msi/token" || r.Header.Get("X-IDENTITY-HEADER") != header ||
			q.Get("api-version") != "2019-08-01" || q.Get("resource") != resource || q.Get("client_id") != clientID {
			t.Errorf("identity request %s %s (X-IDENTITY-HEADER %q): want GET /msi/token for resource %s and client_id %q",
				r.Method, r.URL, r.Header.Get("X-IDENTITY-HEADER"), resource, clientID)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"expires_on":%q,"resource":%q,"token_type":"Bearer"}`,
			token, strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10), resource)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", header)
}

func TestHTTPClientAzureAD(t *testing.T) {
	for _, tc := range []struct {
		name     string
		azuread  func(clientID string) string
		env      func(t *testing.T, clientID string)
		resource string // what the token is asked for: the cloud's ingestion audience or the scope
	}{
		{
			name:     "user-assigned managed identity",
			azuread:  func(id string) string { return "{managed_identity: {client_id: " + id + "}}" },
			resource: "https://monitor.azure.com/",
		},
		{
			name: "managed identity in AzureGovernment with a custom scope",
			azuread: func(id string) string {
				return "{cloud: AzureGovernment, scope: api://" + id + ", managed_identity: {client_id: " + id + "}}"
			},
			resource: "api://",
		},
		{
			// DefaultAzureCredential: no AZURE_TENANT_ID, so neither the
			// environment nor workload identity apply, and its managed
			// identity takes AZURE_CLIENT_ID as the user-assigned identity.
			name:     "SDK default credential in AzureChina",
			azuread:  func(string) string { return "{cloud: AzureChina, sdk: {}}" },
			env:      func(t *testing.T, id string) { t.Setenv("AZURE_CLIENT_ID", id) },
			resource: "https://monitor.azure.cn/",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAzure(t)
			// A fresh client ID, as MSAL caches managed identity tokens per process.
			id := uuid.NewString()
			if tc.resource == "api://" {
				tc.resource += id
			}
			if tc.env != nil {
				tc.env(t, id)
			}
			token := "azure-token-" + id
			appServiceIdentity(t, "S3cr3t-identity-header", tc.resource, id, token)
			rc := newReceiver(t)
			cfg := loadIn(t, t.TempDir(), y(
				"remote_write:",
				"  - url: "+rc.URL+"/dataCollectionRules/dcr-1/streams/Microsoft-PrometheusMetrics/api/v1/write",
				"    headers: {X-Scope-OrgID: team-a}",
				"    azuread: "+tc.azuread(id),
			))
			ep := cfg.RemoteWrite[0]
			if strings.Contains(ep.String(), secretMark) || ep.Auth() != "azuread" {
				t.Errorf("String() = %s", ep)
			}
			hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
			if err != nil {
				t.Fatal(err)
			}
			if code, err := push(t, ep, hc); err != nil || code != http.StatusNoContent {
				t.Fatalf("got %d, %v; want 204", code, err)
			}
			want := "Bearer " + token + " | team-a"
			if got := rc.requests(); len(got) != 1 || got[0] != want {
				t.Errorf("receiver saw %q, want %q", got, want)
			}
		})
	}
}

// TestHTTPClientAzureADTokenError: when the identity endpoint refuses, the
// request fails before it reaches the receiver, and the error shows neither
// the identity header nor a client secret.
func TestHTTPClientAzureADTokenError(t *testing.T) {
	isolateAzure(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid_request","error_description":"no such identity"}`, http.StatusBadRequest)
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "S3cr3t-identity-header")
	rc := newReceiver(t)
	cfg := loadIn(t, t.TempDir(), y(
		"remote_write:",
		"  - url: "+rc.URL+"/api/v1/write",
		"    azuread: {managed_identity: {client_id: "+uuid.NewString()+"}}",
	))
	ep := cfg.RemoteWrite[0]
	hc, err := ep.NewHTTPClient(context.Background(), "kube-state-push/test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = push(t, ep, hc)
	if err == nil || !strings.Contains(err.Error(), "no such identity") {
		t.Fatalf("got %v, want the identity endpoint's refusal", err)
	}
	if strings.Contains(err.Error(), secretMark) {
		t.Errorf("error shows a secret: %v", err)
	}
	if got := rc.requests(); len(got) != 0 {
		t.Errorf("the receiver got %q without a token", got)
	}
}
