package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input ends with one clear line that names the cause, exit status 2 for
// bad configuration and 1 for an apiserver that cannot be used.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("this: is: not: a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreachable := filepath.Join(dir, "unreachable")
	if err := os.WriteFile(unreachable, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(badConfig, []byte("resources: [pods]\nresorces: [nodes]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	seriesConfig := filepath.Join(dir, "series.yaml")
	if err := os.WriteFile(seriesConfig, []byte("series_labels: {pod: [team]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shardConfig := filepath.Join(dir, "shard.yaml")
	if err := os.WriteFile(shardConfig, []byte("shard: 2\ntotal_shards: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("POD_NAMESPACE", "")
	metricsConfig := filepath.Join(dir, "metrics.yaml")
	if err := os.WriteFile(metricsConfig, []byte("metrics_address: \"localhost:\"\nenable_gzip_encoding: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCRS := "kind: CustomResourceStateMetrics\nspec:\n  resources:\n  - groupVersionKind: {group: example.com, version: v1, kind: Widget}\n" +
		"    metrics:\n    - name: x\n      each:\n        type: Bogus\n"
	crsFile := filepath.Join(dir, "crs.yaml")
	if err := os.WriteFile(crsFile, []byte(badCRS), 0o600); err != nil {
		t.Fatal(err)
	}
	// Inline in the --config file, as a mapping: the error names the file's line.
	crsConfig := filepath.Join(dir, "crs-config.yaml")
	indented := "  " + strings.ReplaceAll(strings.TrimSuffix(badCRS, "\n"), "\n", "\n  ") + "\n"
	if err := os.WriteFile(crsConfig, []byte("resources: [pods]\ncustom_resource_state_config:\n"+indented+"job: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rw := "--remote-write-url=http://127.0.0.1:9/api/v1/write"
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown resource", []string{rw, "--kubeconfig", unreachable, "--resources", "pods,foos"}, 2, `unknown resource "foos" (valid: `},
		{"malformed url", []string{"--remote-write-url", "http://[::1", "--kubeconfig", unreachable}, 2, "--remote-write-url"},
		{"url without scheme", []string{"--remote-write-url", "prometheus:9090/api/v1/write", "--kubeconfig", unreachable}, 2, "want an http:// or https:// URL"},
		{"missing url", []string{"--kubeconfig", unreachable}, 2, "--remote-write-url is required"},
		{"missing kubeconfig file", []string{rw, "--kubeconfig", filepath.Join(dir, "nope")}, 2, "--kubeconfig " + filepath.Join(dir, "nope")},
		{"broken kubeconfig", []string{rw, "--kubeconfig", broken}, 2, "--kubeconfig " + broken},
		{"not in a cluster", []string{rw}, 2, "no --kubeconfig given and not running in a cluster"},
		{"unreachable apiserver", []string{rw, "--kubeconfig", unreachable}, 1, "cannot reach the apiserver at https://127.0.0.1:1"},
		{"unknown flag", []string{"--no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
		{"bad duration", []string{rw, "--kubeconfig", unreachable, "--resend-interval", "0s"}, 2, "--resend-interval must be positive"},
		{"bad allowlist", []string{rw, "--metric-labels-allowlist", "pods=[app"}, 2, `invalid value "pods=[app" for flag -metric-labels-allowlist: "pods=[app": missing ]`},
		{"allowlist of unknown resource", []string{rw, "--kubeconfig", unreachable, "--metric-labels-allowlist", "podz=[app]"}, 2, `--metric-labels-allowlist: unknown resource "podz"`},
		{"bad series labels", []string{rw, "--series-labels", "pods=[team"}, 2, `invalid value "pods=[team" for flag -series-labels: "pods=[team": missing ]`},
		{"series labels of unknown resource", []string{rw, "--kubeconfig", unreachable, "--series-labels", "podz=[team]"}, 2, `--series-labels: unknown resource "podz"`},
		{"series labels of unknown resource in config", []string{rw, "--kubeconfig", unreachable, "--config", seriesConfig}, 2, `--series-labels: unknown resource "pod"`},
		{"allow and deny", []string{rw, "--kubeconfig", unreachable, "--metric-allowlist", "a", "--metric-denylist", "b"}, 2, "mutually exclusive"},
		{"bad config key", []string{rw, "--config", badConfig}, 2, badConfig + `:2: unknown key "resorces"`},
		{"missing config", []string{rw, "--config", filepath.Join(dir, "none.yaml")}, 2, "--config: open "},
		{"zero shards", []string{rw, "--kubeconfig", unreachable, "--total-shards", "0"}, 2, "--total-shards must be at least 1, got 0"},
		{"shard past total", []string{rw, "--kubeconfig", unreachable, "--shard", "3", "--total-shards", "3"}, 2, "--shard must be between 0 and --total-shards-1 (2), got 3"},
		{"negative shard", []string{rw, "--kubeconfig", unreachable, "--shard", "-1", "--total-shards", "3"}, 2, "got -1"},
		{"shard past total in config", []string{rw, "--kubeconfig", unreachable, "--config", shardConfig}, 2, "--shard must be between 0 and --total-shards-1 (1), got 2"},
		{"pod and shard", []string{rw, "--kubeconfig", unreachable, "--pod", "ksp-0", "--pod-namespace", "x", "--total-shards", "2"}, 2, "cannot be combined with --shard or --total-shards"},
		{"pod without namespace", []string{rw, "--kubeconfig", unreachable, "--pod", "ksp-0"}, 2, "--pod needs --pod-namespace"},
		{"replica labels sharded", []string{rw, "--kubeconfig", unreachable, "--ha-mode", "replica-labels", "--ha-cluster", "c", "--total-shards", "2"},
			2, "--ha-mode=replica-labels cannot be combined with sharding"},
		{"metrics address without port", []string{rw, "--kubeconfig", unreachable, "--metrics-address", "8080"}, 2,
			`--metrics-address "8080": missing port in address (want host:port or :port, such as :8080)`},
		{"bad metrics port", []string{rw, "--kubeconfig", unreachable, "--metrics-address", ":80800"}, 2, `--metrics-address ":80800": bad port "80800"`},
		{"bad metrics address in config", []string{rw, "--kubeconfig", unreachable, "--config", metricsConfig}, 2, `--metrics-address "localhost:": bad port ""`},
		{"bad log format", []string{rw, "--log-format", "xml"}, 2, `--log-format "xml": want text or json`},
		{"bad custom resource state file", []string{rw, "--kubeconfig", unreachable, "--custom-resource-state-config-file", crsFile}, 2,
			crsFile + `:8:9: spec.resources[0].metrics[0].each.type: unknown type "Bogus"`},
		{"bad custom resource state in config", []string{rw, "--kubeconfig", unreachable, "--config", crsConfig}, 2,
			crsConfig + `:10:11: spec.resources[0].metrics[0].each.type: unknown type "Bogus"`},
		{"bad inline custom resource state", []string{rw, "--kubeconfig", unreachable, "--custom-resource-state-config", badCRS}, 2,
			`--custom-resource-state-config:8:9: spec.resources[0].metrics[0].each.type: unknown type "Bogus"`},
		{"custom resource state twice", []string{rw, "--kubeconfig", unreachable, "--custom-resource-state-config", badCRS,
			"--custom-resource-state-config-file", crsFile}, 2, "exclude each other"},
		{"custom resource state only without config", []string{rw, "--kubeconfig", unreachable, "--custom-resource-state-only"}, 2,
			"--custom-resource-state-only needs --custom-resource-state-config"},
		{"custom resource state only with resources", []string{rw, "--kubeconfig", unreachable, "--custom-resource-state-only", "--resources", "pods",
			"--custom-resource-state-config-file", crsFile}, 2, "excludes --resources"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(c.args, &out, &out)
			if code != c.code {
				t.Errorf("exit status %d, want %d; output:\n%s", code, c.code, out.String())
			}
			line := strings.TrimSuffix(out.String(), "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "kube-state-push: ") || !strings.Contains(line, c.want) {
				t.Errorf("output %q, want one line containing %q", out.String(), c.want)
			}
			if strings.Contains(out.String(), "goroutine ") || strings.Contains(out.String(), "panic") {
				t.Errorf("stack trace in output:\n%s", out.String())
			}
		})
	}
}

func TestPrintRBAC(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--print-rbac", "--resources", "pods,deployments,roles"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [list, watch]
  - apiGroups: ["apps"]
    resources: [deployments]
    verbs: [list, watch]
  - apiGroups: ["rbac.authorization.k8s.io"]
    resources: [roles]
    verbs: [list, watch]
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}

	// Automatic sharding adds a Role for its pod and StatefulSet.
	out.Reset()
	if code := run([]string{"--print-rbac", "--resources", "pods", "--pod", "ksp-0", "--pod-namespace", "monitoring"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want = `rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [list, watch]
---
# Role in namespace monitoring, for automatic sharding (--pod)
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get]
  - apiGroups: ["apps"]
    resources: [statefulsets]
    verbs: [get, list, watch]
`
	if out.String() != want {
		t.Errorf("with --pod, got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// With a custom resource state config: list and watch on each configured
// resource (every resource of the group for a kind wildcard) and what
// discovery reads of the CRDs.
func TestPrintRBACCustomResources(t *testing.T) {
	var out, errOut bytes.Buffer
	config := filepath.Join("..", "..", "customresource", "testdata", "ksm", "config.yaml")
	if code := run([]string{"--print-rbac", "--custom-resource-state-only", "--custom-resource-state-config-file", config}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `rules:
  - apiGroups: ["argoproj.io"]
    resources: [applications]
    verbs: [list, watch]
  - apiGroups: ["cert-manager.io"]
    resources: [certificates]
    verbs: [list, watch]
  - apiGroups: ["quota.example.com"]
    resources: [resourcebudgets]
    verbs: [list, watch]
  - apiGroups: ["s3.aws.upbound.io"]
    resources: ["*"]
    verbs: [list, watch]
  - apiGroups: ["apiextensions.k8s.io"]
    resources: [customresourcedefinitions]
    verbs: [get, list, watch]
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if code := run([]string{"--print-rbac", "--resources", "pods", "--custom-resource-state-config-file", config}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "rules:\n  - apiGroups: [\"\"]\n    resources: [pods]\n") || !strings.Contains(out.String(), "customresourcedefinitions") {
		t.Errorf("with --resources pods, got:\n%s", out.String())
	}
}
