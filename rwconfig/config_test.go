package rwconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/kube-state-push/kube-state-push/series"
)

// y joins lines into a YAML document, so that tests can count lines.
func y(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// load writes doc to rw.yaml in a temporary directory and loads it. Errors
// come back with the directory removed, as "rw.yaml:LINE: KEY: ...".
func load(t testing.TB, doc string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rw.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v is not an *Error", err)
		}
		return cfg, errors.New(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
	}
	return cfg, nil
}

func TestLoadValid(t *testing.T) {
	t.Setenv("KSP_TEST_CLUSTER", "prod-eu")
	type want struct {
		name     string // "" for a derived name
		url      string
		timeout  time.Duration
		headers  map[string]string
		auth     string
		relabels int
		proto    ProtobufMessage
		queue    QueueConfig
		metadata MetadataConfig
		external []series.Label
	}
	q := func(f func(*QueueConfig)) QueueConfig {
		c := DefaultQueueConfig
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		doc  string
		want want
	}{
		{
			name: "plain Prometheus",
			doc: y(
				"remote_write:",
				"  - url: http://prometheus.monitoring.svc:9090/api/v1/write",
			),
			want: want{
				url: "http://prometheus.monitoring.svc:9090/api/v1/write", timeout: 30 * time.Second,
				auth: "none", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Prometheus 3 receiving Remote-Write 2.0",
			doc: y(
				"remote_write:",
				"  - url: http://prometheus:9090/api/v1/write",
				"    protobuf_message: io.prometheus.write.v2.Request",
				"    send_exemplars: true",
				"    send_native_histograms: true",
				"    metadata_config:",
				"      send: false",
			),
			want: want{
				url: "http://prometheus:9090/api/v1/write", timeout: 30 * time.Second, auth: "none",
				proto: MessageV2, queue: DefaultQueueConfig,
				metadata: MetadataConfig{Send: false, SendInterval: time.Minute, MaxSamplesPerSend: 2000},
			},
		},
		{
			name: "Mimir with a tenant header",
			doc: y(
				"external_labels:",
				"  cluster: ${KSP_TEST_CLUSTER}",
				"  __replica__: replica-$$1",
				"remote_write:",
				"  - url: https://mimir.example.com/api/v1/push",
				"    name: mimir",
				"    headers:",
				"      X-Scope-OrgID: team-a",
				"    queue_config:",
				"      capacity: 20000",
				"      max_shards: 20",
				"      max_samples_per_send: 5000",
			),
			want: want{
				name: "mimir", url: "https://mimir.example.com/api/v1/push", timeout: 30 * time.Second,
				headers: map[string]string{"X-Scope-OrgID": "team-a"}, auth: "none",
				queue: q(func(c *QueueConfig) {
					c.Capacity, c.MaxShards, c.MaxSamplesPerSend = 20000, 20, 5000
				}),
				metadata: DefaultMetadataConfig,
				external: []series.Label{{Name: "__replica__", Value: "replica-$1"}, {Name: "cluster", Value: "prod-eu"}},
			},
		},
		{
			name: "Thanos receive",
			doc: y(
				"remote_write:",
				"  - url: http://thanos-receive.monitoring.svc:19291/api/v1/receive",
				"    remote_timeout: 1m",
				"    tls_config:",
				"      insecure_skip_verify: true",
				"    queue_config: {min_backoff: 100ms, max_backoff: 10s, retry_on_http_429: true}",
				"    write_relabel_configs:",
				"      - source_labels: [__name__]",
				"        regex: kube_pod_.*|kube_node_.*",
				"        action: keep",
				"      - regex: uid",
				"        action: labeldrop",
			),
			want: want{
				url: "http://thanos-receive.monitoring.svc:19291/api/v1/receive", timeout: time.Minute, auth: "none",
				relabels: 2,
				queue: q(func(c *QueueConfig) {
					c.MinBackoff, c.MaxBackoff, c.RetryOnHTTP429 = 100*time.Millisecond, 10*time.Second, true
				}),
				metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Amazon Managed Prometheus",
			doc: y(
				"remote_write:",
				"  - url: https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123/api/v1/remote_write",
				"    sigv4:",
				"      region: us-east-1",
				"      role_arn: arn:aws:iam::123456789012:role/amp-ingest",
				"    queue_config:",
				"      max_samples_per_send: 1000",
				"      max_shards: 200",
				"      capacity: 2500",
			),
			want: want{
				url:     "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123/api/v1/remote_write",
				timeout: 30 * time.Second, auth: "sigv4",
				queue: q(func(c *QueueConfig) {
					c.MaxSamplesPerSend, c.MaxShards, c.Capacity = 1000, 200, 2500
				}),
				metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Grafana Cloud",
			doc: y(
				"remote_write:",
				"- url: https://prometheus-prod-10-prod-us-central-0.grafana.net/api/prom/push",
				"  basic_auth:",
				"    username: 123456",
				"    password: glc_eyJvIjoiMTIzIn0=",
			),
			want: want{
				url: "https://prometheus-prod-10-prod-us-central-0.grafana.net/api/prom/push", timeout: 30 * time.Second,
				auth: "basic_auth", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "bearer token file, OAuth2-less authorization, proxy",
			doc: y(
				"remote_write:",
				"  - url: https://vm.example.com/api/v1/write",
				"    name: victoria metrics (eu)",
				"    authorization:",
				"      credentials_file: /var/run/secrets/token",
				"    proxy_url: http://proxy.example.com:3128",
				"    follow_redirects: false",
				"    enable_http2: true",
				"    round_robin_dns: true",
			),
			want: want{
				name: "victoria metrics (eu)", url: "https://vm.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "authorization", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "OAuth2",
			doc: y(
				"remote_write:",
				"  - url: https://metrics.example.com/push",
				"    oauth2:",
				"      client_id: ksp",
				"      client_secret_file: client-secret",
				"      token_url: https://auth.example.com/token",
				"      scopes: [metrics.write]",
				"      endpoint_params: {audience: metrics}",
			),
			want: want{
				url: "https://metrics.example.com/push", timeout: 30 * time.Second,
				auth: "oauth2", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure Monitor, user-assigned managed identity",
			doc: y(
				"remote_write:",
				"  - url: https://ws-1.eastus-1.metrics.ingest.monitor.azure.com/dataCollectionRules/dcr-1/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24",
				"    azuread:",
				"      cloud: AzurePublic",
				"      managed_identity:",
				"        client_id: 00000000-0000-0000-0000-000000000001",
			),
			want: want{
				url:     "https://ws-1.eastus-1.metrics.ingest.monitor.azure.com/dataCollectionRules/dcr-1/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24",
				timeout: 30 * time.Second, auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure system-assigned managed identity",
			doc: y(
				"remote_write:",
				"  - url: https://azure.example.com/api/v1/write",
				"    azuread: {managed_identity: {}}",
			),
			want: want{
				url: "https://azure.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure OAuth client secret",
			doc: y(
				"remote_write:",
				"  - url: https://azure.example.com/api/v1/write",
				"    azuread:",
				"      cloud: AzureGovernment",
				"      oauth:",
				"        client_id: 00000000-0000-0000-0000-000000000002",
				"        client_secret: hunter2",
				"        tenant_id: 00000000-0000-0000-0000-0000000000aa",
			),
			want: want{
				url: "https://azure.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure SDK default credential",
			doc: y(
				"remote_write:",
				"  - url: https://azure.example.com/api/v1/write",
				"    azuread:",
				"      cloud: AzureChina",
				"      sdk:",
				"        tenant_id: contoso.onmicrosoft.com",
			),
			want: want{
				url: "https://azure.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure workload identity with a custom scope",
			doc: y(
				"remote_write:",
				"  - url: https://azure.example.com/api/v1/write",
				"    azuread:",
				"      scope: api://kube-state-push/.default",
				"      workload_identity:",
				"        client_id: 00000000-0000-0000-0000-000000000003",
				"        tenant_id: 00000000-0000-0000-0000-0000000000aa",
				"        token_file_path: /var/run/secrets/azure/tokens/azure-identity-token",
			),
			want: want{
				url: "https://azure.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Azure client certificate",
			doc: y(
				"remote_write:",
				"  - url: https://azure.example.com/api/v1/write",
				"    azuread:",
				"      certificate:",
				"        client_id: 00000000-0000-0000-0000-000000000004",
				"        tenant_id: 00000000-0000-0000-0000-0000000000aa",
				"        certificate_path: /etc/azure/cert.pem",
				"        send_certificate_chain: true",
			),
			want: want{
				url: "https://azure.example.com/api/v1/write", timeout: 30 * time.Second,
				auth: "azuread", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Google Cloud Managed Service for Prometheus, credentials file",
			doc: y(
				"remote_write:",
				"  - url: https://monitoring.googleapis.com/v1/projects/my-project/location/global/prometheus/api/v1/write",
				"    google_iam:",
				"      credentials_file: /etc/gcp/service-account.json",
			),
			want: want{
				url:     "https://monitoring.googleapis.com/v1/projects/my-project/location/global/prometheus/api/v1/write",
				timeout: 30 * time.Second, auth: "google_iam", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
		{
			name: "Google Cloud, default credentials",
			doc: y(
				"remote_write:",
				"  - url: https://monitoring.googleapis.com/v1/projects/my-project/location/global/prometheus/api/v1/write",
				"    google_iam: {}",
			),
			want: want{
				url:     "https://monitoring.googleapis.com/v1/projects/my-project/location/global/prometheus/api/v1/write",
				timeout: 30 * time.Second, auth: "google_iam", queue: DefaultQueueConfig, metadata: DefaultMetadataConfig,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.RemoteWrite) != 1 {
				t.Fatalf("got %d endpoints, want 1", len(cfg.RemoteWrite))
			}
			ep := cfg.RemoteWrite[0]
			got := want{
				url: ep.URL, timeout: ep.Timeout, headers: ep.Headers, auth: ep.Auth(),
				relabels: len(ep.Relabel), proto: ep.ProtobufMessage, queue: ep.Queue, metadata: ep.Metadata,
				external: cfg.ExternalLabels,
			}
			if tc.want.name != "" {
				got.name = ep.Name
			} else if !validCursorName(ep.Name) || len(ep.Name) != 8 {
				t.Errorf("derived name %q, want 8 hex digits", ep.Name)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !validCursorName(ep.CursorName()) {
				t.Errorf("CursorName %q is not a valid WAL cursor name", ep.CursorName())
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want string
	}{
		{
			"missing url",
			y(
				"remote_write:",
				"  - url: http://a.example.com/push",
				"  - name: second",
				"    remote_timeout: 10s",
			),
			"rw.yaml:3: remote_write[1].url: is required",
		},
		{
			"bad scheme",
			y(
				"remote_write:",
				"  - url: ftp://user:hunter2@a.example.com/push",
			),
			`rw.yaml:2: remote_write[0].url: "ftp://a.example.com/push": want an http:// or https:// URL with a host`,
		},
		{
			"URL without host",
			y(
				"remote_write:",
				"  - url: /api/v1/push",
			),
			`rw.yaml:2: remote_write[0].url: "/api/v1/push": want an http:// or https:// URL with a host`,
		},
		{
			"unknown key",
			y(
				"remote_write:",
				"  - url: http://a.example.com/push",
				"    queue_config:",
				"      max_shard: 3",
			),
			`rw.yaml:4: remote_write[0].queue_config.max_shard: unknown key "max_shard"`,
		},
		{
			"unknown key in a library block",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    tls_config:",
				"      ca_fil: ca.pem",
			),
			`rw.yaml:4: remote_write[0].tls_config.ca_fil: unknown key "ca_fil"`,
		},
		{
			"unknown key in a relabel rule",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    write_relabel_configs:",
				"      - action: drop",
				"        source_label: [namespace]",
			),
			`rw.yaml:5: remote_write[0].write_relabel_configs[0].source_label: unknown key "source_label"`,
		},
		{
			"unknown endpoint key",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    remote_timout: 10s",
			),
			`rw.yaml:3: remote_write[0].remote_timout: unknown key "remote_timout"`,
		},
		{
			"both basic_auth and authorization",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    basic_auth: {username: u, password: hunter2}",
				"    authorization:",
				"      credentials: hunter3",
			),
			"rw.yaml:4: remote_write[0].authorization: at most one of basic_auth, oauth2 & authorization must be configured",
		},
		{
			"sigv4 and basic_auth",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    sigv4: {region: us-east-1}",
				"    basic_auth: {username: u, password: hunter2}",
			),
			"rw.yaml:4: remote_write[0].basic_auth: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got basic_auth and sigv4",
		},
		{
			"password and password_file",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    basic_auth:",
				"      username: u",
				"      password: hunter2",
				"      password_file: /etc/pw",
			),
			"rw.yaml:6: remote_write[0].basic_auth.password_file: at most one of basic_auth password, password_file & password_ref must be configured",
		},
		{
			"sigv4 access key without secret key",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    sigv4:",
				"      region: us-east-1",
				"      access_key: AKIAEXAMPLE",
			),
			"rw.yaml:3: remote_write[0].sigv4: must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
		},
		{
			"reserved header",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    headers:",
				"      X-Scope-OrgID: team-a",
				"      user-agent: curl",
			),
			"rw.yaml:5: remote_write[0].headers.user-agent: user-agent is a reserved header and cannot be set",
		},
		{
			"authorization header",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    headers:",
				"      Authorization: Bearer hunter2",
			),
			"rw.yaml:4: remote_write[0].headers.Authorization: set the authorization header through basic_auth, authorization, oauth2, sigv4, azuread or google_iam",
		},
		{
			"bad duration",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    remote_timeout: 30x",
			),
			`rw.yaml:3: remote_write[0].remote_timeout: unknown unit "x" in duration "30x"`,
		},
		{
			"bad nested duration",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    queue_config:",
				"      max_shards: 10",
				"      batch_send_deadline: soon",
			),
			`rw.yaml:5: remote_write[0].queue_config.batch_send_deadline: not a valid duration string: "soon"`,
		},
		{
			"zero timeout",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    remote_timeout: 0s",
			),
			"rw.yaml:3: remote_write[0].remote_timeout: must be positive",
		},
		{
			"bad relabel regex",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    write_relabel_configs:",
				"      - source_labels: [__name__]",
				"        action: drop",
				"      - source_labels: [__name__]",
				"        regex: kube_(pod",
				"        action: keep",
			),
			"rw.yaml:7: remote_write[0].write_relabel_configs[1].regex: error parsing regexp: missing closing ): `^(?s:kube_(pod)$`",
		},
		{
			"unknown relabel action",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    write_relabel_configs:",
				"      - source_labels: [__name__]",
				"        action: dorp",
			),
			`rw.yaml:5: remote_write[0].write_relabel_configs[0].action: unknown relabel action "dorp"`,
		},
		{
			"replace without target_label",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    write_relabel_configs:",
				"      - source_labels: [namespace]",
				"        replacement: x",
			),
			"rw.yaml:4: remote_write[0].write_relabel_configs[0]: relabel configuration for replace action requires 'target_label' value",
		},
		{
			"empty relabel rule",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    write_relabel_configs:",
				"      -",
			),
			"rw.yaml:4: remote_write[0].write_relabel_configs[0]: empty relabel rule",
		},
		{
			"zero max_shards",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    queue_config:",
				"      max_shards: 0",
			),
			"rw.yaml:4: remote_write[0].queue_config.max_shards: must be positive, got 0",
		},
		{
			"min_shards above max_shards",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    queue_config:",
				"      min_shards: 60",
			),
			"rw.yaml:4: remote_write[0].queue_config.min_shards: 60 is more than max_shards 50",
		},
		{
			"not a number",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    queue_config:",
				"      max_shards: many",
			),
			"rw.yaml:4: remote_write[0].queue_config.max_shards: got a string, want a number",
		},
		{
			"bad protobuf_message",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    protobuf_message: v2",
			),
			`rw.yaml:3: remote_write[0].protobuf_message: "v2": want prometheus.WriteRequest or io.prometheus.write.v2.Request`,
		},
		{
			"bad TLS version",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    tls_config:",
				"      min_version: TLS14",
			),
			`rw.yaml:3: remote_write[0].tls_config: unknown TLS version: TLS14`,
		},
		{
			"oauth2 without client_id",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    oauth2:",
				"      token_url: https://auth.example.com/token",
			),
			"rw.yaml:3: remote_write[0].oauth2: oauth2 client_id must be configured",
		},
		{
			"azuread without an authentication method",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread: {cloud: AzurePublic}",
			),
			"rw.yaml:3: remote_write[0].azuread: must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth, Azure Certificate or Azure SDK in the Azure AD config",
		},
		{
			"azuread with two authentication methods",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      managed_identity: {}",
				"      sdk: {}",
			),
			"rw.yaml:3: remote_write[0].azuread: cannot provide multiple authentication methods in the Azure AD config",
		},
		{
			"azuread unknown cloud",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      cloud: AzureMoon",
				"      managed_identity: {}",
			),
			"rw.yaml:4: remote_write[0].azuread.cloud: must provide a cloud in the Azure AD config",
		},
		{
			"azuread managed identity client_id not a UUID",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      managed_identity: {client_id: kube-state-push}",
			),
			"rw.yaml:3: remote_write[0].azuread: the provided Azure Managed Identity client_id is invalid",
		},
		{
			"azuread oauth without client_secret",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      oauth:",
				"        client_id: 00000000-0000-0000-0000-000000000002",
				"        tenant_id: 00000000-0000-0000-0000-0000000000aa",
			),
			"rw.yaml:3: remote_write[0].azuread: must provide an Azure OAuth client_secret in the Azure AD config",
		},
		{
			"azuread oauth without tenant_id",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      oauth: {client_id: 00000000-0000-0000-0000-000000000002, client_secret: hunter2}",
			),
			"rw.yaml:3: remote_write[0].azuread: must provide an Azure OAuth tenant_id in the Azure AD config",
		},
		{
			"azuread oauth client_id not a UUID",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      oauth: {client_id: ksp, client_secret: hunter2, tenant_id: contoso}",
			),
			"rw.yaml:3: remote_write[0].azuread: the provided Azure OAuth client_id is invalid",
		},
		{
			"azuread workload identity without tenant_id",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      workload_identity: {client_id: 00000000-0000-0000-0000-000000000003}",
			),
			"rw.yaml:3: remote_write[0].azuread: must provide an Azure Workload Identity tenant_id in the Azure AD config",
		},
		{
			"azuread workload identity tenant_id not a UUID",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      workload_identity: {client_id: 00000000-0000-0000-0000-000000000003, tenant_id: contoso}",
			),
			"rw.yaml:3: remote_write[0].azuread: the provided Azure Workload Identity tenant_id is invalid",
		},
		{
			"azuread certificate without certificate_path",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      certificate: {client_id: 00000000-0000-0000-0000-000000000004, tenant_id: contoso, certificate_password: hunter2}",
			),
			"rw.yaml:3: remote_write[0].azuread: must provide an Azure Certificate certificate_path in the Azure AD config",
		},
		{
			"azuread scope with a bad character",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      sdk: {}",
				"      scope: 'api://ksp/.default;drop'",
			),
			"rw.yaml:5: remote_write[0].azuread.scope: the provided scope contains invalid characters",
		},
		{
			"unknown key in azuread",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      managed_identity:",
				"        clientid: 00000000-0000-0000-0000-000000000001",
			),
			`rw.yaml:5: remote_write[0].azuread.managed_identity.clientid: unknown key "clientid"`,
		},
		{
			"unknown azuread method",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      client_secret: hunter2",
			),
			`rw.yaml:4: remote_write[0].azuread.client_secret: unknown key "client_secret"`,
		},
		{
			"azuread client_secret not a string",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread:",
				"      oauth:",
				"        client_id: 00000000-0000-0000-0000-000000000002",
				"        client_secret: [hunter2]",
				"        tenant_id: contoso",
			),
			"rw.yaml:6: remote_write[0].azuread.oauth.client_secret: a list is not allowed here",
		},
		{
			"azuread not a mapping",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread: managed_identity",
			),
			"rw.yaml:3: remote_write[0].azuread: a string is not allowed here",
		},
		{
			"unknown key in google_iam",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    google_iam:",
				"      credentials: hunter2",
			),
			`rw.yaml:4: remote_write[0].google_iam.credentials: unknown key "credentials"`,
		},
		{
			"google_iam credentials_file not a string",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    google_iam:",
				"      credentials_file: {path: /etc/gcp.json}",
			),
			"rw.yaml:4: remote_write[0].google_iam.credentials_file: got a mapping, want a string",
		},
		{
			"azuread and sigv4",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    sigv4: {region: us-east-1}",
				"    azuread: {managed_identity: {}}",
			),
			"rw.yaml:4: remote_write[0].azuread: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got sigv4 and azuread",
		},
		{
			"google_iam and sigv4",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    google_iam: {}",
				"    sigv4: {region: us-east-1}",
			),
			"rw.yaml:4: remote_write[0].sigv4: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got sigv4 and google_iam",
		},
		{
			"azuread and google_iam",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    azuread: {sdk: {}}",
				"    google_iam: {credentials_file: /etc/gcp.json}",
			),
			"rw.yaml:4: remote_write[0].google_iam: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got azuread and google_iam",
		},
		{
			"azuread and basic_auth",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    basic_auth: {username: u, password: hunter2}",
				"    azuread: {sdk: {}}",
			),
			"rw.yaml:4: remote_write[0].azuread: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got basic_auth and azuread",
		},
		{
			"google_iam and authorization",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    google_iam: {}",
				"    authorization: {credentials: hunter2}",
			),
			"rw.yaml:4: remote_write[0].authorization: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got authorization and google_iam",
		},
		{
			"azuread and oauth2",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    oauth2: {client_id: ksp, client_secret: hunter2, token_url: 'https://auth.example.com/token'}",
				"    azuread: {managed_identity: {}}",
			),
			"rw.yaml:4: remote_write[0].azuread: at most one of basic_auth, authorization, oauth2, sigv4, azuread and google_iam may be set, got oauth2 and azuread",
		},
		{
			"duplicate names",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    name: main",
				"  - url: https://b.example.com/push",
				"    name: main",
			),
			`rw.yaml:4: remote_write[1]: name "main" is also the name of remote_write[0]; give each endpoint a distinct name`,
		},
		{
			"same destination twice",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"  - url: https://a.example.com/push",
				"    remote_timeout: 5s",
			),
			"", // checked below: the derived names collide
		},
		{
			"repeated key",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    queue_config:",
				"      max_shards: 10",
				"      max_shards: 20",
			),
			"rw.yaml:5: remote_write[0].queue_config.max_shards: also set on line 4",
		},
		{
			"repeated block",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"remote_write:",
				"  - url: https://b.example.com/push",
			),
			"rw.yaml:3: remote_write: also set on line 1",
		},
		{
			"remote_write not a list",
			y(
				"remote_write:",
				"  url: https://a.example.com/push",
			),
			"rw.yaml:2: remote_write: want a list of endpoints",
		},
		{
			"bad external label name",
			y(
				"external_labels:",
				"  cluster-name: prod",
			),
			`rw.yaml:2: external_labels.cluster-name: "cluster-name" is not a valid label name`,
		},
		{
			"metric name as external label",
			y(
				"external_labels:",
				"  __name__: up",
			),
			"rw.yaml:2: external_labels.__name__: the metric name cannot be an external label",
		},
		{
			"unknown top-level key in a standalone file",
			y(
				"global:",
				"  scrape_interval: 1m",
			),
			`rw.yaml:1: global: unknown key "global"`,
		},
		{
			"bad proxy URL with a password",
			y(
				"remote_write:",
				"  - url: https://a.example.com/push",
				"    proxy_url: http://u:hunter2@proxy:port",
			),
			"rw.yaml:3: remote_write[0].proxy_url: not a valid URL",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want == "" {
				if !strings.HasPrefix(err.Error(), "rw.yaml:3: remote_write[1]: name ") {
					t.Errorf("got %q, want a name collision at rw.yaml:3", err)
				}
				return
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("error shows a secret: %s", err)
			}
		})
	}
}

func TestParseIgnoresOtherKeys(t *testing.T) {
	var doc yaml.Node
	src := y(
		"resources: pods,nodes",
		"remote_write:",
		"  - url: https://a.example.com/push",
		"    password_typo: x",
	)
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("/etc/ksp/config.yaml", &doc)
	want := `/etc/ksp/config.yaml:4: remote_write[0].password_typo: unknown key "password_typo"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}

	src = y(
		"resources: pods,nodes",
		"remote_write:",
		"  - url: https://a.example.com/push",
		"    basic_auth: {username: u, password_file: pw}",
	)
	doc = yaml.Node{}
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("/etc/ksp/config.yaml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	// Relative files are relative to the configuration file, as in Prometheus.
	if got := cfg.RemoteWrite[0].http.BasicAuth.PasswordFile; got != "/etc/ksp/pw" {
		t.Errorf("password_file = %q, want /etc/ksp/pw", got)
	}
	if cfg, err := Parse("x.yaml", &yaml.Node{}); err != nil || len(cfg.RemoteWrite) != 0 {
		t.Errorf("empty document: %v, %v", cfg, err)
	}
}

func TestNamesAndIDs(t *testing.T) {
	base := y(
		"remote_write:",
		"  - url: https://user:hunter2@a.example.com/push",
		"    headers: {X-Scope-OrgID: team-a}",
		"    queue_config: {max_shards: 10}",
	)
	ep := func(doc string) Endpoint {
		t.Helper()
		cfg, err := load(t, doc)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.RemoteWrite[0]
	}
	a := ep(base)
	if b := ep(base); a.ID() != b.ID() || a.Name != b.Name {
		t.Errorf("same config, different identity: %s/%s vs %s/%s", a.Name, a.ID(), b.Name, b.ID())
	}
	for _, tc := range []struct {
		name     string
		doc      string
		sameName bool
	}{
		{"rotated URL password", strings.Replace(base, "hunter2", "hunter3", 1), true},
		{"retuned queue", strings.Replace(base, "max_shards: 10", "max_shards: 20", 1), true},
		{"other tenant", strings.Replace(base, "team-a", "team-b", 1), false},
		{"other host", strings.Replace(base, "a.example.com", "b.example.com", 1), false},
		{"other user", strings.Replace(base, "user:", "admin:", 1), false},
	} {
		b := ep(tc.doc)
		if b.ID() == a.ID() {
			t.Errorf("%s: ID unchanged", tc.name)
		}
		if (b.Name == a.Name) != tc.sameName {
			t.Errorf("%s: name %s -> %s, want same=%v", tc.name, a.Name, b.Name, tc.sameName)
		}
	}

	withPassword := func(pw string) Endpoint {
		return ep(y(
			"remote_write:",
			"  - url: https://a.example.com/push",
			"    basic_auth: {username: u, password: "+pw+"}",
		))
	}
	if p1, p2 := withPassword("one"), withPassword("two"); p1.ID() == p2.ID() || p1.Name != p2.Name {
		t.Errorf("rotated inline password: IDs %s %s (want different), names %s %s (want same)", p1.ID(), p2.ID(), p1.Name, p2.Name)
	}
}

func TestCursorName(t *testing.T) {
	for _, name := range []string{"mimir", "grafana-cloud_1", strings.Repeat("a", 128)} {
		if got := (Endpoint{Name: name}).CursorName(); got != name {
			t.Errorf("CursorName(%q) = %q, want it unchanged", name, got)
		}
	}
	seen := map[string]string{}
	for _, name := range []string{"victoria metrics (eu)", "victoria_metrics__eu_", "ünïcode", strings.Repeat("a", 129), strings.Repeat("a", 130)} {
		got := (Endpoint{Name: name}).CursorName()
		if !validCursorName(got) {
			t.Errorf("CursorName(%q) = %q, not a valid cursor name", name, got)
		}
		if got != (Endpoint{Name: name}).CursorName() {
			t.Errorf("CursorName(%q) is not stable", name)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("CursorName(%q) = CursorName(%q) = %q", name, other, got)
		}
		seen[got] = name
	}
	if got := (Endpoint{Name: "victoria metrics (eu)"}).CursorName(); !strings.HasPrefix(got, "victoria_metrics__eu_-") {
		t.Errorf("CursorName keeps no readable prefix: %q", got)
	}
}

func TestNewEndpoint(t *testing.T) {
	ep, err := NewEndpoint("default", "https://u:hunter2@a.example.com/api/v1/push")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Name != "default" || ep.Timeout != DefaultRemoteTimeout || ep.Queue != DefaultQueueConfig || ep.Auth() != "none" {
		t.Errorf("got %v %v %+v", ep, ep.Timeout, ep.Queue)
	}
	if ep.String() != "default (https://a.example.com/api/v1/push, auth: none)" {
		t.Errorf("String() = %q", ep)
	}
	if ep, err := NewEndpoint("", "http://a.example.com/push"); err != nil || !validCursorName(ep.Name) {
		t.Errorf("derived name %q, %v", ep.Name, err)
	}
	_, err = NewEndpoint("", "ftp://u:hunter2@a.example.com/push")
	if want := `--remote-write-url: "ftp://a.example.com/push": want an http:// or https:// URL with a host`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestLoadAzureADDefaults: azuread gets Prometheus's defaults as it is
// decoded: the AzurePublic cloud, and a workload identity's token file from
// AZURE_FEDERATED_TOKEN_FILE, else the webhook's historical path.
func TestLoadAzureADDefaults(t *testing.T) {
	doc := y(
		"remote_write:",
		"  - url: https://azure.example.com/push",
		"    azuread:",
		"      workload_identity:",
		"        client_id: 00000000-0000-0000-0000-000000000003",
		"        tenant_id: 00000000-0000-0000-0000-0000000000aa",
	)
	for _, tc := range []struct{ env, want string }{
		{"/var/run/secrets/azure/tokens/moved", "/var/run/secrets/azure/tokens/moved"},
		{"", "/var/run/secrets/azure/tokens/azure-identity-token"},
	} {
		t.Setenv("AZURE_FEDERATED_TOKEN_FILE", tc.env)
		cfg, err := load(t, doc)
		if err != nil {
			t.Fatal(err)
		}
		a := cfg.RemoteWrite[0].azuread
		if a.Cloud != "AzurePublic" || a.WorkloadIdentity.TokenFilePath != tc.want {
			t.Errorf("AZURE_FEDERATED_TOKEN_FILE=%q: cloud %q, token_file_path %q; want AzurePublic and %s",
				tc.env, a.Cloud, a.WorkloadIdentity.TokenFilePath, tc.want)
		}
	}
	// An explicit token_file_path wins over the environment.
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "/from/env")
	cfg, err := load(t, strings.Replace(doc, "0000000000aa\n", "0000000000aa\n        token_file_path: /from/config\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RemoteWrite[0].azuread.WorkloadIdentity.TokenFilePath; got != "/from/config" {
		t.Errorf("token_file_path %q, want /from/config", got)
	}
	// google_iam's credentials_file is not taken relative to the config
	// file, as in Prometheus.
	cfg, err = load(t, y(
		"remote_write:",
		"  - url: https://monitoring.googleapis.com/v1/projects/p/location/global/prometheus/api/v1/write",
		"    google_iam: {credentials_file: sa.json}",
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RemoteWrite[0].googleIAM.CredentialsFile; got != "sa.json" {
		t.Errorf("credentials_file %q, want sa.json as written", got)
	}
}
