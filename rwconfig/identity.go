package rwconfig

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// maxCursorName is the longest WAL cursor name (wal.checkCursorName).
const maxCursorName = 128

// String describes the endpoint for logs and status pages: its name, its URL
// without credentials and its kind of authentication. It never shows a secret.
func (e Endpoint) String() string {
	return fmt.Sprintf("%s (%s, auth: %s)", e.Name, e.Redacted(), e.Auth())
}

// GoString is String, so that %#v does not print credentials either.
func (e Endpoint) GoString() string { return e.String() }

// Redacted returns the URL without its user information and with the values of
// its query parameters replaced by xxxxx, fit for logs and metric labels.
func (e Endpoint) Redacted() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return "<invalid URL>"
	}
	return redactURL(u)
}

func redactURL(u *url.URL) string {
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		q := r.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// Auth names the endpoint's authentication: basic_auth, authorization (also
// for bearer_token), oauth2, sigv4, azuread, google_iam or none.
func (e Endpoint) Auth() string {
	switch {
	case e.http.BasicAuth != nil:
		return "basic_auth"
	case e.http.Authorization != nil:
		return "authorization"
	case e.http.OAuth2 != nil:
		return "oauth2"
	case e.sigv4 != nil:
		return "sigv4"
	case e.azuread != nil:
		return "azuread"
	case e.googleIAM != nil:
		return "google_iam"
	}
	return "none"
}

// ID identifies the endpoint's whole configuration within this process, for a
// reload to tell which endpoints changed: two entries have the same ID exactly
// when all their settings are equal, inline secrets included (a rotated
// password is a change). Files named by *_file keys are not read: the HTTP
// client re-reads them itself on every request. The ID is a hash keyed by a
// random per-process key, so it reveals nothing about the secrets, but it
// also differs from one run to the next: do not persist it (use CursorName).
func (e Endpoint) ID() string { return e.id }

// CursorName is the name of the endpoint's WAL cursor: Name when it is 1 to
// 128 characters of [A-Za-z0-9_-], and otherwise Name with other characters
// replaced by _, cut, and followed by a hash of Name. An endpoint without a
// name is named by a hash of where it sends (URL without password, headers,
// user, SigV4 region and role, Azure cloud, scope, client and tenant), so
// rotating a secret (or an Azure or Google credential file) or retuning the queue
// keeps its cursor, while pointing it at another receiver or tenant starts a
// new one. Renaming an endpoint starts a new cursor.
func (e Endpoint) CursorName() string {
	if validCursorName(e.Name) {
		return e.Name
	}
	sum := sha256.Sum256([]byte(e.Name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	b := []byte(e.Name)
	for i, c := range b {
		if !isCursorByte(c) {
			b[i] = '_'
		}
	}
	if len(b) > maxCursorName-len(suffix) {
		b = b[:maxCursorName-len(suffix)]
	}
	return string(b) + suffix
}

func validCursorName(s string) bool {
	if s == "" || len(s) > maxCursorName {
		return false
	}
	for i := range len(s) {
		if !isCursorByte(s[i]) {
			return false
		}
	}
	return true
}

func isCursorByte(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// destinationHash names an endpoint without a name: 8 hex digits of a hash
// of what decides where its samples land. Prometheus hashes the whole entry;
// we leave out tuning and secrets so that the name, and with it the WAL
// cursor, survives them.
func (e Endpoint) destinationHash() string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	if u, err := url.Parse(e.URL); err == nil {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		w("url", u.String())
	}
	for _, k := range slices.Sorted(maps.Keys(e.Headers)) {
		w("header", strings.ToLower(k), e.Headers[k])
	}
	if b := e.http.BasicAuth; b != nil {
		w("basic_auth", b.Username, b.UsernameFile, b.UsernameRef)
	}
	if a := e.http.Authorization; a != nil {
		w("authorization", a.Type)
	}
	if o := e.http.OAuth2; o != nil {
		w("oauth2", o.ClientID, o.TokenURL)
	}
	if s := e.sigv4; s != nil {
		w("sigv4", s.Region, s.Profile, s.RoleARN, s.AccessKey, s.ExternalID, s.ServiceName)
	}
	if a := e.azuread; a != nil {
		// The principal, not how it proves who it is: a client secret,
		// certificate or federated token of the same application keeps
		// the name, and no paths or secrets are hashed.
		var client, tenant string
		switch {
		case a.ManagedIdentity != nil:
			client = a.ManagedIdentity.ClientID
		case a.WorkloadIdentity != nil:
			client, tenant = a.WorkloadIdentity.ClientID, a.WorkloadIdentity.TenantID
		case a.OAuth != nil:
			client, tenant = a.OAuth.ClientID, a.OAuth.TenantID
		case a.Certificate != nil:
			client, tenant = a.Certificate.ClientID, a.Certificate.TenantID
		case a.SDK != nil:
			tenant = a.SDK.TenantID
		}
		w("azuread", a.Cloud, a.Scope, client, tenant)
	}
	if e.googleIAM != nil {
		// The service account is in the credentials file, which is not read.
		w("google_iam")
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// processKey keys ID's hash, so that an ID cannot be used to guess a secret.
var processKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// identity computes ID: a keyed hash of the entry as YAML (where secrets show
// as <secret>) followed by every secret value.
func (e Endpoint) identity() string {
	doc := struct {
		Name                 string
		URL                  string
		Timeout              string
		Headers              map[string]string
		Relabel              any
		ProtobufMessage      ProtobufMessage
		Queue                QueueConfig
		Metadata             MetadataConfig
		LabelLimits          LabelLimits
		RoundRobinDNS        bool
		FailedRequestLogging bool
		HTTP                 config.HTTPClientConfig
		SigV4                any
		AzureAD              any
		GoogleIAM            any
	}{
		e.Name, e.Redacted(), e.Timeout.String(), e.Headers, e.Relabel, e.ProtobufMessage,
		e.Queue, e.Metadata, e.LabelLimits, e.RoundRobinDNS, e.FailedRequestLogging, e.http, e.sigv4,
		e.azuread, e.googleIAM,
	}
	mac := hmac.New(sha256.New, processKey)
	b, err := yaml.Marshal(doc)
	if err != nil {
		b = []byte(err.Error())
	}
	mac.Write(b)
	var secrets []string
	if u, err := url.Parse(e.URL); err == nil && u.User != nil {
		secrets = append(secrets, u.User.String(), u.RawQuery)
	}
	collectSecrets(reflect.ValueOf(e.http), &secrets)
	collectSecrets(reflect.ValueOf(e.sigv4), &secrets)
	collectSecrets(reflect.ValueOf(e.azuread), &secrets)
	for _, s := range secrets {
		mac.Write([]byte(s))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

var (
	secretType = reflect.TypeFor[config.Secret]()
	urlType    = reflect.TypeFor[config.URL]()
)

// collectSecrets appends, in a fixed order, every config.Secret under v and the
// password of every config.URL (which marshal to YAML without their values).
func collectSecrets(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectSecrets(v.Elem(), out)
		}
	case reflect.Struct:
		if v.Type() == urlType {
			if u := v.Interface().(config.URL); u.URL != nil && u.User != nil {
				*out = append(*out, u.User.String())
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collectSecrets(v.Field(i), out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collectSecrets(v.Index(i), out)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			*out = append(*out, fmt.Sprint(k))
			collectSecrets(v.MapIndex(k), out)
		}
	case reflect.String:
		if v.Type() == secretType {
			*out = append(*out, v.String())
		}
	}
}
