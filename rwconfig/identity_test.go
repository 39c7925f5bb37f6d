package rwconfig

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// secretMark is in every secret of the documents below; nothing may show it.
const secretMark = "S3cr3t"

// allSecrets has a secret in every place a remote_write entry can hold one.
var allSecrets = []string{
	"remote_write:",
	"  - url: https://user:S3cr3t-url@a.example.com/push?api_key=S3cr3t-query",
	"    name: all-secrets",
	"    headers: {X-Api-Key: S3cr3t-header}",
	"    basic_auth: {username: u, password: S3cr3t-basic}",
	"    tls_config: {cert: not-a-cert, key: S3cr3t-tls-key}",
	"    proxy_url: http://pu:S3cr3t-proxy@proxy.example.com:3128",
	"    proxy_connect_header: {Proxy-Authorization: [S3cr3t-connect]}",
	"    http_headers: {X-Token: {secrets: [S3cr3t-http-header]}}",
	"  - url: https://b.example.com/push",
	"    authorization: {credentials: S3cr3t-bearer}",
	"  - url: https://c.example.com/push",
	"    bearer_token: S3cr3t-old-bearer",
	"  - url: https://d.example.com/push",
	"    oauth2: {client_id: ksp, client_secret: S3cr3t-oauth, token_url: 'https://auth.example.com/token'}",
	"  - url: https://e.example.com/push",
	"    sigv4: {region: us-east-1, access_key: AKIDEXAMPLE, secret_key: S3cr3t-aws}",
	"  - url: https://f.example.com/push",
	"    azuread: {oauth: {client_id: 00000000-0000-0000-0000-000000000001, client_secret: S3cr3t-azure, tenant_id: contoso}}",
	"  - url: https://g.example.com/push",
	"    azuread:",
	"      certificate: {client_id: 00000000-0000-0000-0000-000000000002, tenant_id: contoso, certificate_path: /c.pem, certificate_password: S3cr3t-cert}",
	"  - url: https://h.example.com/push",
	"    google_iam: {credentials_file: /etc/gcp/sa.json}",
}

func TestNoSecretInStrings(t *testing.T) {
	cfg, err := load(t, y(allSecrets...))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secretMark) {
			t.Errorf("%s shows a secret: %s", what, s)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		check("Config "+verb, fmt.Sprintf(verb, cfg))
	}
	for _, ep := range cfg.RemoteWrite {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			check("Endpoint "+verb, fmt.Sprintf(verb, ep))
			check("*Endpoint "+verb, fmt.Sprintf(verb, &ep))
		}
		check("Redacted", ep.Redacted())
		check("Name", ep.Name)
		check("CursorName", ep.CursorName())
		check("ID", ep.ID())
	}
	if got, want := cfg.RemoteWrite[0].String(), "all-secrets (https://a.example.com/push?api_key=xxxxx, auth: basic_auth)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for i, want := range map[int]string{
		3: "(https://d.example.com/push, auth: oauth2)",
		4: "(https://e.example.com/push, auth: sigv4)",
		5: "(https://f.example.com/push, auth: azuread)",
		6: "(https://g.example.com/push, auth: azuread)",
		7: "(https://h.example.com/push, auth: google_iam)",
	} {
		if got := cfg.RemoteWrite[i].String(); !strings.HasSuffix(got, want) {
			t.Errorf("String() = %q, want it to end in %q", got, want)
		}
	}

	// Building clients fails on the bad inline certificate, without showing the key.
	for _, ep := range cfg.RemoteWrite[:1] {
		if _, err := ep.NewHTTPClient(context.Background(), "ua"); err != nil {
			check("NewHTTPClient error", err.Error())
		}
	}
}

func TestNoSecretInErrors(t *testing.T) {
	// Each change to allSecrets makes it invalid in a different way.
	for _, tc := range []struct{ old, new string }{
		{"    name: all-secrets", "    name: all-secrets\n    bogus: S3cr3t-bogus"},
		{"{username: u, password: S3cr3t-basic}", "{username: u, password: [S3cr3t-basic]}"},
		{"{username: u, password: S3cr3t-basic}", "{username: u, password: {S3cr3t-basic: S3cr3t-x}}"},
		{"{username: u, password: S3cr3t-basic}", "{username: u, password: S3cr3t-basic, password_file: /f}"},
		{"{X-Api-Key: S3cr3t-header}", "{Authorization: S3cr3t-header}"},
		{"{X-Api-Key: S3cr3t-header}", "[S3cr3t-header]"},
		{"https://user:S3cr3t-url@a.example.com/push", "ftp://user:S3cr3t-url@a.example.com/push"},
		{"https://user:S3cr3t-url@a.example.com/push", "https://user:S3cr3t-url@a.example.com:port/push"},
		{"https://user:S3cr3t-url@a.example.com/push", "https://user:S3cr3t%zz@a.example.com/push"},
		{"http://pu:S3cr3t-proxy@proxy.example.com:3128", "http://pu:S3cr3t-proxy@proxy.example.com:port"},
		{"{credentials: S3cr3t-bearer}", "{credentials: S3cr3t-bearer, credentials_file: /f}"},
		{"{credentials: S3cr3t-bearer}", "{credentials: S3cr3t-bearer}\n    basic_auth: {password: S3cr3t-b}"},
		{"    bearer_token: S3cr3t-old-bearer", "    bearer_token: S3cr3t-old-bearer\n    bearer_token_file: /f"},
		{"secret_key: S3cr3t-aws}", "secret_key: S3cr3t-aws, session_name: x}"},
		{"access_key: AKIDEXAMPLE, ", ""},
		{"client_secret: S3cr3t-oauth,", "client_secret: S3cr3t-oauth, client_secret_file: /f,"},
		{"{cert: not-a-cert, key: S3cr3t-tls-key}", "{key: S3cr3t-tls-key}"},
		{"{cert: not-a-cert, key: S3cr3t-tls-key}", "{cert: not-a-cert, key: S3cr3t-tls-key, key_file: /k}"},
		{"{cert: not-a-cert, key: S3cr3t-tls-key}", "{cert: not-a-cert, key: S3cr3t-tls-key, min_version: TLS14}"},
		{"[S3cr3t-connect]", "S3cr3t-connect"},
		{"{secrets: [S3cr3t-http-header]}", "{secrets: S3cr3t-http-header}"},
		{"client_secret: S3cr3t-azure", "client_secret: [S3cr3t-azure]"},
		{"client_secret: S3cr3t-azure", "client_secret: {S3cr3t-azure: S3cr3t-x}"},
		{"client_secret: S3cr3t-azure, tenant_id: contoso", "client_secret: S3cr3t-azure"},
		{"client_id: 00000000-0000-0000-0000-000000000001, client_secret: S3cr3t-azure", "client_id: S3cr3t-id, client_secret: S3cr3t-azure"},
		{"{oauth: {", "{sdk: {}, oauth: {"},
		{"{oauth: {", "{cloud: S3cr3t-cloud, oauth: {"},
		{"{oauth: {", "{oauth: {secret: S3cr3t-typo, "},
		{"    azuread: {oauth:", "    sigv4: {region: us-east-1}\n    azuread: {oauth:"},
		{"certificate_path: /c.pem, ", ""},
		{"certificate_password: S3cr3t-cert", "certificate_password: [S3cr3t-cert]"},
		{"{credentials_file: /etc/gcp/sa.json}", "{credentials_file: /etc/gcp/sa.json, private_key: S3cr3t-gcp}"},
	} {
		doc := y(allSecrets...)
		if !strings.Contains(doc, tc.old) {
			t.Fatalf("%q is not in the document", tc.old)
		}
		_, err := load(t, strings.Replace(doc, tc.old, tc.new, 1))
		if err == nil {
			t.Errorf("%q: no error", tc.new)
			continue
		}
		if strings.Contains(err.Error(), secretMark) {
			t.Errorf("error shows a secret: %s", err)
		}
	}
}

// TestCloudAuthNamesAndIDs: for azuread and google_iam, the derived name (and
// so the WAL cursor) follows the principal and the cloud, not the credential:
// a rotated client secret, another way to prove the same application's
// identity, or another credentials or token file keep it; the ID changes with
// every setting and secret.
func TestCloudAuthNamesAndIDs(t *testing.T) {
	ep := func(lines ...string) Endpoint {
		t.Helper()
		cfg, err := load(t, y(append([]string{"remote_write:", "  - url: https://azure.example.com/push"}, lines...)...))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.RemoteWrite[0]
	}
	const app, tenant = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000aa"
	oauth := func(client, secret, tenant string) string {
		return "    azuread: {oauth: {client_id: " + client + ", client_secret: " + secret + ", tenant_id: " + tenant + "}}"
	}
	base := ep(oauth(app, "one", tenant))
	if again := ep(oauth(app, "one", tenant)); again.ID() != base.ID() || again.Name != base.Name {
		t.Errorf("same config, different identity: %s/%s vs %s/%s", base.Name, base.ID(), again.Name, again.ID())
	}
	for _, tc := range []struct {
		name     string
		ep       Endpoint
		sameName bool
	}{
		{"rotated client secret", ep(oauth(app, "two", tenant)), true},
		{"same application, certificate instead of secret", ep(
			"    azuread: {certificate: {client_id: " + app + ", tenant_id: " + tenant + ", certificate_path: /etc/azure/cert.pem}}"), true},
		{"same application, workload identity", ep(
			"    azuread: {workload_identity: {client_id: " + app + ", tenant_id: " + tenant + ", token_file_path: /var/run/token}}"), true},
		{"other application", ep(oauth("00000000-0000-0000-0000-000000000002", "one", tenant)), false},
		{"other tenant", ep(oauth(app, "one", "00000000-0000-0000-0000-0000000000bb")), false},
		{"other cloud", ep("    azuread: {cloud: AzureChina, oauth: {client_id: " + app + ", client_secret: one, tenant_id: " + tenant + "}}"), false},
		{"other scope", ep("    azuread: {scope: api://other/.default, oauth: {client_id: " + app + ", client_secret: one, tenant_id: " + tenant + "}}"), false},
		{"managed identity of that client ID", ep("    azuread: {managed_identity: {client_id: " + app + "}}"), false},
		{"no auth", ep(), false},
	} {
		if tc.ep.ID() == base.ID() {
			t.Errorf("%s: ID unchanged", tc.name)
		}
		if (tc.ep.Name == base.Name) != tc.sameName {
			t.Errorf("%s: name %s -> %s, want same=%v", tc.name, base.Name, tc.ep.Name, tc.sameName)
		}
	}
	// Prometheus's default cloud is AzurePublic: saying so changes nothing.
	if e := ep("    azuread: {cloud: AzurePublic, oauth: {client_id: " + app + ", client_secret: one, tenant_id: " + tenant + "}}"); e.Name != base.Name || e.ID() != base.ID() {
		t.Errorf("explicit AzurePublic: %s/%s, want %s/%s", e.Name, e.ID(), base.Name, base.ID())
	}
	// A rotated token file path keeps the name of a workload identity.
	wi := func(path string) Endpoint {
		return ep("    azuread: {workload_identity: {client_id: " + app + ", tenant_id: " + tenant + ", token_file_path: " + path + "}}")
	}
	if a, b := wi("/var/run/a"), wi("/var/run/b"); a.Name != b.Name || a.ID() == b.ID() {
		t.Errorf("workload identity token file: names %s %s (want same), IDs %s %s (want different)", a.Name, b.Name, a.ID(), b.ID())
	}

	gcp := func(lines ...string) Endpoint { return ep(lines...) }
	g1, g2 := gcp("    google_iam: {credentials_file: /etc/gcp/a.json}"), gcp("    google_iam: {credentials_file: /etc/gcp/b.json}")
	if g1.Name != g2.Name || g1.ID() == g2.ID() {
		t.Errorf("google_iam credentials file: names %s %s (want same), IDs %s %s (want different)", g1.Name, g2.Name, g1.ID(), g2.ID())
	}
	if def := gcp("    google_iam: {}"); def.Name != g1.Name || def.ID() == g1.ID() {
		t.Errorf("google_iam default credentials: name %s (want %s), ID %s (want other than %s)", def.Name, g1.Name, def.ID(), g1.ID())
	}
	if none := ep(); none.Name == g1.Name {
		t.Errorf("google_iam and no auth have the same name %s", g1.Name)
	}
}
