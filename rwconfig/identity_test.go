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
	if got := cfg.RemoteWrite[3].String(); !strings.HasSuffix(got, "(https://d.example.com/push, auth: oauth2)") {
		t.Errorf("String() = %q", got)
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
