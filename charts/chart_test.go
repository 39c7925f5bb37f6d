// Package charts tests the Helm chart in kube-state-push/: helm lint, golden
// renders, kubeconform -strict on every render, the values schema, the agent
// accepting the ConfigMap it is given, and RBAC rules equal to --print-rbac.
//
// helm, kubeconform and the Kubernetes JSON schemas come from the cache that
// hack/build-components.sh fills (`make components`); the tests fail, never
// skip, when they are missing.
package charts

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kube-state-push/kube-state-push/agent"
	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/ha"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	chartDir          = "kube-state-push"
	helmVersion       = "v3.22.0"
	kubeconformVer    = "v0.8.0"
	kubernetesVersion = "1.37.2"
	release           = "ksp"
	namespace         = "monitoring"
)

// cases are the golden renders: testdata/NAME.values.yaml -> testdata/NAME.golden.yaml.
var cases = []string{"default", "sharded", "ha", "full", "crs"}

func cacheDir() string {
	if d := os.Getenv("KSP_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "kube-state-push")
}

// tool returns the cached binary, failing the test when it was not built.
func tool(t *testing.T, name, version string) string {
	t.Helper()
	p := filepath.Join(cacheDir(), "bin", name+"-"+version)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s %s not found at %s: run `make components` (or hack/build-components.sh chart)", name, version, p)
	}
	return p
}

// helm runs helm with its state in a scratch directory and returns stdout.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, "helm", helmVersion), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render runs helm template with a values file and extra --set flags.
func render(t *testing.T, valuesFile string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubernetesVersion}
	if valuesFile != "" {
		args = append(args, "-f", valuesFile)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return helm(t, args...)
}

func mustRender(t *testing.T, valuesFile string, sets ...string) string {
	t.Helper()
	out, err := render(t, valuesFile, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLint(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			out, err := helm(t, "lint", chartDir, "--strict", "--kube-version", kubernetesVersion,
				"-f", filepath.Join("testdata", c+".values.yaml"))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			got := mustRender(t, filepath.Join("testdata", c+".values.yaml"))
			golden := filepath.Join("testdata", c+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./charts -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("render differs from %s (-want +got; go test ./charts -update rewrites it):\n%s", golden, diff)
			}
		})
	}
}

// TestKubeconform validates every render against the Kubernetes 1.37 schemas,
// refusing unknown fields. ServiceMonitor, PodMonitor and PrometheusRule are
// Prometheus Operator CRDs with no schema in the Kubernetes OpenAPI documents,
// so they are skipped explicitly; TestMonitoringObjects checks their shape.
func TestKubeconform(t *testing.T) {
	kc := tool(t, "kubeconform", kubeconformVer)
	schemas := filepath.Join(cacheDir(), "schemas-v"+kubernetesVersion)
	if _, err := os.Stat(filepath.Join(schemas, ".done")); err != nil {
		t.Fatalf("Kubernetes JSON schemas not found in %s: run `make components` (or hack/build-components.sh chart)", schemas)
	}
	location := schemas + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), c+".yaml")
			if err := os.WriteFile(file, []byte(mustRender(t, filepath.Join("testdata", c+".values.yaml"))), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(kc, "-strict", "-summary", "-output", "text",
				"-kubernetes-version", kubernetesVersion, "-schema-location", location,
				"-skip", "ServiceMonitor,PodMonitor,PrometheusRule", file)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("kubeconform: %v\n%s", err, out)
			}
			// A render where kubeconform found nothing would pass vacuously.
			if !strings.Contains(string(out), "Invalid: 0, Errors: 0") || strings.Contains(string(out), "Valid: 0,") {
				t.Fatalf("kubeconform validated nothing:\n%s", out)
			}
			t.Logf("%s", bytes.TrimSpace(out))
		})
	}
	// The schemas really refuse unknown fields: a misspelt field fails.
	t.Run("strict-refuses-unknown-field", func(t *testing.T) {
		bad := strings.Replace(mustRender(t, filepath.Join("testdata", "default.values.yaml")),
			"serviceAccountName:", "serviceAcountName:", 1)
		file := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(kc, "-strict", "-kubernetes-version", kubernetesVersion,
			"-schema-location", location, file).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "serviceAcountName") {
			t.Fatalf("kubeconform accepted a misspelt field (err %v):\n%s", err, out)
		}
	})
}

// TestSchemaRejects: bad values fail helm with a message naming the key.
func TestSchemaRejects(t *testing.T) {
	url := "remoteWrite[0].url=https://receiver.example/api/v1/write"
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"wrong type", []string{url, "replicas=two"}, "at '/replicas': got string, want integer"},
		{"wrong type nested", []string{url, "wal.enabled=maybe"}, "at '/wal/enabled': got string, want boolean"},
		{"unknown key", []string{url, "replica=2"}, "additional properties 'replica' not allowed"},
		{"unknown nested key", []string{url, "ha.leaseNmae=x"}, "additional properties 'leaseNmae' not allowed"},
		{"inline password", []string{url, "remoteWrite[0].basic_auth.password=hunter2"}, "at '/remoteWrite/0/basic_auth': additional properties 'password' not allowed"},
		{"inline credentials", []string{url, "remoteWrite[0].authorization.credentials=tok"}, "at '/remoteWrite/0/authorization': additional properties 'credentials' not allowed"},
		{"inline bearer_token", []string{url, "remoteWrite[0].bearer_token=tok"}, "at '/remoteWrite/0': additional properties 'bearer_token' not allowed"},
		{"inline client_secret", []string{url, "remoteWrite[0].oauth2.client_secret=s"}, "at '/remoteWrite/0/oauth2': additional properties 'client_secret' not allowed"},
		{"inline sigv4 secret_key", []string{url, "remoteWrite[0].sigv4.secret_key=s"}, "at '/remoteWrite/0/sigv4': additional properties 'secret_key' not allowed"},
		{"azuread oauth (inline client_secret only)", []string{url, "remoteWrite[0].azuread.oauth.client_secret=s"}, "at '/remoteWrite/0/azuread': additional properties 'oauth' not allowed"},
		{"inline azuread certificate_password", []string{url, "remoteWrite[0].azuread.certificate.certificate_password=s"}, "at '/remoteWrite/0/azuread/certificate': additional properties 'certificate_password' not allowed"},
		{"unknown google_iam key", []string{url, "remoteWrite[0].google_iam.credentials=s"}, "at '/remoteWrite/0/google_iam': additional properties 'credentials' not allowed"},
		{"unknown collector", []string{url, "collectors[0]=podz"}, "at '/collectors/0'"},
		{"bad ha mode", []string{url, "ha.mode=active"}, "at '/ha/mode'"},
		{"bad wal size", []string{url, "wal.maxSize=lots"}, "at '/wal/maxSize'"},
		{"bad duration", []string{url, "config.resendInterval=30"}, "at '/config/resendInterval'"},
		{"url without scheme", []string{"remoteWrite[0].url=receiver.example"}, "at '/remoteWrite/0/url'"},
		// Rules the schema cannot express, checked by the templates.
		{"no endpoint", nil, "remoteWrite: at least one endpoint is required"},
		{"replicas without HA", []string{url, "replicas=2"}, "replicas > 1 needs ha.mode"},
		{"sharding with HA", []string{url, "sharding.enabled=true", "ha.mode=leader", "replicas=2"}, "sharding.enabled and ha.mode cannot be combined"},
		{"replica-labels without cluster", []string{url, "ha.mode=replica-labels", "replicas=2"}, "ha.cluster is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := render(t, "", tc.sets...)
			if err == nil {
				t.Fatalf("helm accepted %v:\n%s", tc.sets, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

// object is the part of a rendered manifest the tests read.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Rules []rbacv1.PolicyRule `json:"rules"`
	Data  map[string]string   `json:"data"`
	raw   []byte
}

func parse(t *testing.T, manifests string) []object {
	t.Helper()
	var out []object
	for doc := range strings.SplitSeq(manifests, "\n---") {
		j, err := yaml.ToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if string(j) == "null" {
			continue
		}
		var o object
		if err := sigsyaml.Unmarshal(j, &o); err != nil {
			t.Fatal(err)
		}
		o.raw = j
		out = append(out, o)
	}
	return out
}

func find(objs []object, kind, ns string) []object {
	var out []object
	for _, o := range objs {
		if o.Kind == kind && (ns == "*" || o.Metadata.Namespace == ns) {
			out = append(out, o)
		}
	}
	return out
}

// buildAgent builds the agent binary into a temporary directory.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kube-state-push")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kube-state-push")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// printRBAC runs the agent's --print-rbac for the given resources.
func printRBAC(t *testing.T, bin string, resources []string) []rbacv1.PolicyRule {
	t.Helper()
	out, err := exec.Command(bin, "--print-rbac", "--resources="+strings.Join(resources, ",")).Output()
	if err != nil {
		t.Fatalf("--print-rbac: %v", err)
	}
	var doc struct {
		Rules []rbacv1.PolicyRule `json:"rules"`
	}
	if err := sigsyaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("--print-rbac output: %v\n%s", err, out)
	}
	return doc.Rules
}

func collectorSets(f func(collectors.Resource) bool) []string {
	var names []string
	for _, r := range collectors.All() {
		if f(r) {
			names = append(names, r.Name())
		}
	}
	return names
}

func setList(key string, values []string) string {
	return key + "={" + strings.Join(values, ",") + "}"
}

// TestRBACMatchesPrintRBAC renders the chart with every resource the agent
// knows and compares its rules with the agent's own --print-rbac.
func TestRBACMatchesPrintRBAC(t *testing.T) {
	all := collectorSets(func(collectors.Resource) bool { return true })
	if len(all) != 39 {
		t.Fatalf("agent knows %d resources, the chart's table was written for 39: update templates/_helpers.tpl", len(all))
	}
	url := "remoteWrite[0].url=https://receiver.example/api/v1/write"
	bin := buildAgent(t)
	want := printRBAC(t, bin, all)

	t.Run("cluster-wide", func(t *testing.T) {
		objs := parse(t, mustRender(t, "", url, setList("collectors", all)))
		roles := find(objs, "ClusterRole", "*")
		if len(roles) != 1 {
			t.Fatalf("want one ClusterRole, got %d", len(roles))
		}
		if diff := cmp.Diff(want, roles[0].Rules); diff != "" {
			t.Errorf("ClusterRole rules differ from --print-rbac (-print-rbac +chart):\n%s", diff)
		}
		if n := len(find(objs, "Role", "*")); n != 0 {
			t.Errorf("no namespaces given: want no Role, got %d", n)
		}
	})

	// With namespaces, namespaced resources move to a Role per namespace and
	// cluster-scoped ones stay in the ClusterRole; together they are --print-rbac's.
	t.Run("namespaces", func(t *testing.T) {
		namespaced := collectorSets(collectors.Resource.Namespaced)
		cluster := collectorSets(func(r collectors.Resource) bool { return !r.Namespaced() })
		objs := parse(t, mustRender(t, "", url, setList("collectors", all), "namespaces={team-b,team-a}"))
		roles := find(objs, "ClusterRole", "*")
		if len(roles) != 1 {
			t.Fatalf("want one ClusterRole, got %d", len(roles))
		}
		if diff := cmp.Diff(printRBAC(t, bin, cluster), roles[0].Rules); diff != "" {
			t.Errorf("ClusterRole rules (-print-rbac of cluster-scoped +chart):\n%s", diff)
		}
		wantNS := printRBAC(t, bin, namespaced)
		for _, ns := range []string{"team-a", "team-b"} {
			r := find(objs, "Role", ns)
			if len(r) != 1 {
				t.Fatalf("namespace %s: want one Role, got %d", ns, len(r))
			}
			if diff := cmp.Diff(wantNS, r[0].Rules); diff != "" {
				t.Errorf("Role in %s (-print-rbac of namespaced +chart):\n%s", ns, diff)
			}
			if len(find(objs, "RoleBinding", ns)) != 1 {
				t.Errorf("namespace %s: no RoleBinding", ns)
			}
		}
		// Every rule together grants exactly what --print-rbac prints.
		var union []string
		for _, rs := range [][]rbacv1.PolicyRule{roles[0].Rules, find(objs, "Role", "team-a")[0].Rules} {
			for _, r := range rs {
				for _, res := range r.Resources {
					union = append(union, r.APIGroups[0]+"/"+res)
				}
			}
		}
		var wantUnion []string
		for _, r := range want {
			for _, res := range r.Resources {
				wantUnion = append(wantUnion, r.APIGroups[0]+"/"+res)
			}
		}
		slices.Sort(union)
		slices.Sort(wantUnion)
		if diff := cmp.Diff(wantUnion, union); diff != "" {
			t.Errorf("ClusterRole plus Role (-print-rbac +chart):\n%s", diff)
		}
	})
}

// TestHAAndShardingRules: leader mode gets ha.LeaseRules for the release's
// Lease; sharding gets get on its own pods and get/list/watch on statefulsets.
func TestHAAndShardingRules(t *testing.T) {
	objs := parse(t, mustRender(t, filepath.Join("testdata", "ha.values.yaml")))
	self := find(objs, "Role", namespace)
	if len(self) != 1 {
		t.Fatalf("HA: want one Role in %s, got %d", namespace, len(self))
	}
	wantLease := ha.LeaseRules("ksp-kube-state-push")
	if diff := cmp.Diff(wantLease, self[0].Rules); diff != "" {
		t.Errorf("HA Role (-ha.LeaseRules +chart):\n%s", diff)
	}

	objs = parse(t, mustRender(t, filepath.Join("testdata", "sharded.values.yaml")))
	var selfRole *object
	for _, o := range find(objs, "Role", namespace) {
		if o.Metadata.Name == "ksp-kube-state-push-self" {
			selfRole = &o
		}
	}
	if selfRole == nil {
		t.Fatal("sharding: no ksp-kube-state-push-self Role")
	}
	wantShard := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"ksp-kube-state-push-0", "ksp-kube-state-push-1", "ksp-kube-state-push-2"}, Verbs: []string{"get"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list", "watch"}},
	}
	if diff := cmp.Diff(wantShard, selfRole.Rules); diff != "" {
		t.Errorf("sharding Role (-want +chart):\n%s", diff)
	}
}

// TestAgentAcceptsConfigMap loads each render's config.yaml with the agent's
// own file loader, so a key the agent does not know fails here.
func TestAgentAcceptsConfigMap(t *testing.T) {
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			objs := parse(t, mustRender(t, filepath.Join("testdata", c+".values.yaml")))
			cms := find(objs, "ConfigMap", namespace)
			if len(cms) != 1 {
				t.Fatalf("want one ConfigMap, got %d", len(cms))
			}
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(cms[0].Data["config.yaml"]), 0o644); err != nil {
				t.Fatal(err)
			}
			var cfg agent.Config
			if err := agent.LoadFile(file, &cfg); err != nil {
				t.Fatalf("the agent refuses the chart's config: %v\n%s", err, cms[0].Data["config.yaml"])
			}
			if len(cfg.RemoteWrite.RemoteWrite) == 0 || len(cfg.Resources) == 0 && !cfg.CustomResourceStateOnly {
				t.Fatalf("config has %d endpoints and %d resources", len(cfg.RemoteWrite.RemoteWrite), len(cfg.Resources))
			}
			// --print-rbac loads the custom resource state config as the agent does.
			if _, err := agent.RBACManifest(cfg); err != nil {
				t.Fatalf("the agent refuses the chart's config: %v\n%s", err, cms[0].Data["config.yaml"])
			}
			for _, s := range []string{"password:", "credentials:", "bearer_token:", "client_secret:"} {
				if strings.Contains(cms[0].Data["config.yaml"], s) {
					t.Errorf("ConfigMap holds an inline secret (%s)", s)
				}
			}
		})
	}
}

// TestWorkload checks the workload kind, the WAL volume's size and the pod's
// security settings in each render.
func TestWorkload(t *testing.T) {
	type container struct {
		Args            []string `json:"args"`
		SecurityContext struct {
			RunAsNonRoot             *bool `json:"runAsNonRoot"`
			ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
			Capabilities             struct {
				Drop []string `json:"drop"`
			} `json:"capabilities"`
		} `json:"securityContext"`
		Resources struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
	}
	type workload struct {
		Spec struct {
			Replicas int `json:"replicas"`
			Template struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
				Spec struct {
					AutomountServiceAccountToken *bool `json:"automountServiceAccountToken"`
					SecurityContext              struct {
						RunAsNonRoot   *bool  `json:"runAsNonRoot"`
						RunAsUser      *int64 `json:"runAsUser"`
						SeccompProfile struct {
							Type string `json:"type"`
						} `json:"seccompProfile"`
					} `json:"securityContext"`
					Containers []container `json:"containers"`
					Volumes    []struct {
						Name     string `json:"name"`
						EmptyDir *struct {
							SizeLimit string `json:"sizeLimit"`
						} `json:"emptyDir"`
					} `json:"volumes"`
				} `json:"spec"`
			} `json:"template"`
			VolumeClaimTemplates []struct {
				Spec struct {
					Resources struct {
						Requests map[string]string `json:"requests"`
					} `json:"resources"`
				} `json:"spec"`
			} `json:"volumeClaimTemplates"`
		} `json:"spec"`
	}
	for _, tc := range []struct {
		values, kind string
		replicas     int
		emptyDir     string // sizeLimit of the WAL emptyDir, "" when none
		claim        string // storage request of the WAL claim, "" when none
		args         []string
	}{
		{"default", "Deployment", 1, "2Gi", "", nil},
		{"sharded", "StatefulSet", 3, "2Gi", "", []string{"--pod=$(POD_NAME)", "--pod-namespace=$(POD_NAMESPACE)"}},
		{"ha", "StatefulSet", 2, "", "1024Mi", []string{"--ha-mode=leader", "--ha-lease-name=ksp-kube-state-push"}},
		{"full", "Deployment", 3, "5Gi", "", []string{"--ha-mode=replica-labels", "--ha-cluster=prod-eu-1", "--wal-sync-interval=2s"}},
	} {
		t.Run(tc.values, func(t *testing.T) {
			objs := parse(t, mustRender(t, filepath.Join("testdata", tc.values+".values.yaml")))
			ws := find(objs, tc.kind, namespace)
			if len(ws) != 1 {
				t.Fatalf("want one %s, got %d", tc.kind, len(ws))
			}
			var w workload
			if err := sigsyaml.Unmarshal(ws[0].raw, &w); err != nil {
				t.Fatal(err)
			}
			if w.Spec.Replicas != tc.replicas {
				t.Errorf("replicas %d, want %d", w.Spec.Replicas, tc.replicas)
			}
			pod := w.Spec.Template.Spec
			if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
				pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser != 65532 ||
				pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
				t.Errorf("pod securityContext: %+v", pod.SecurityContext)
			}
			if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
				t.Error("the pod must mount its token (the ServiceAccount does not)")
			}
			c := pod.Containers[0]
			sc := c.SecurityContext
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
				*sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
				t.Errorf("container securityContext: %+v", sc)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
				t.Errorf("resource requests not set: %v", c.Resources.Requests)
			}
			for _, a := range tc.args {
				if !slices.Contains(c.Args, a) {
					t.Errorf("args %q lack %q", c.Args, a)
				}
			}
			if len(w.Spec.Template.Metadata.Annotations["checksum/config"]) != 64 {
				t.Errorf("checksum/config annotation: %q", w.Spec.Template.Metadata.Annotations["checksum/config"])
			}
			var sizeLimit string
			for _, v := range pod.Volumes {
				if v.Name == "wal" && v.EmptyDir != nil {
					sizeLimit = v.EmptyDir.SizeLimit
				}
			}
			if sizeLimit != tc.emptyDir {
				t.Errorf("WAL emptyDir sizeLimit %q, want %q", sizeLimit, tc.emptyDir)
			}
			var claim string
			if len(w.Spec.VolumeClaimTemplates) > 0 {
				claim = w.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests["storage"]
			}
			if claim != tc.claim {
				t.Errorf("WAL claim %q, want %q", claim, tc.claim)
			}
		})
	}
}

// TestConfigChecksum: a change of the agent's configuration changes the pod
// template's checksum annotation (so the pods roll), and nothing else does.
func TestConfigChecksum(t *testing.T) {
	checksum := func(sets ...string) string {
		t.Helper()
		for _, o := range parse(t, mustRender(t, filepath.Join("testdata", "default.values.yaml"), sets...)) {
			if o.Kind == "Deployment" {
				var w struct {
					Spec struct {
						Template struct {
							Metadata struct {
								Annotations map[string]string `json:"annotations"`
							} `json:"metadata"`
						} `json:"template"`
					} `json:"spec"`
				}
				if err := sigsyaml.Unmarshal(o.raw, &w); err != nil {
					t.Fatal(err)
				}
				return w.Spec.Template.Metadata.Annotations["checksum/config"]
			}
		}
		t.Fatal("no Deployment")
		return ""
	}
	base := checksum()
	if got := checksum("config.resendInterval=1m"); got == base {
		t.Error("changing config.resendInterval left checksum/config unchanged")
	}
	if got := checksum("podLabels.team=x"); got != base {
		t.Error("a pod label changed checksum/config")
	}
}

// TestMonitoringObjects: the CRD objects kubeconform skips have the shape the
// Prometheus Operator expects, and the alerts use metrics the agent exports.
func TestMonitoringObjects(t *testing.T) {
	objs := parse(t, mustRender(t, filepath.Join("testdata", "full.values.yaml")))
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule"} {
		o := find(objs, kind, namespace)
		if len(o) != 1 || o[0].APIVersion != "monitoring.coreos.com/v1" {
			t.Errorf("want one monitoring.coreos.com/v1 %s, got %d", kind, len(o))
		}
	}
	rule := find(objs, "PrometheusRule", namespace)[0]
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := sigsyaml.Unmarshal(rule.raw, &pr); err != nil {
		t.Fatal(err)
	}
	// Every kube_state_push_* name in an expression must be one the agent registers.
	src, err := agentSources()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			n++
			for _, f := range strings.FieldsFunc(r.Expr, func(c rune) bool {
				return c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9')
			}) {
				if strings.HasPrefix(f, "kube_state_push_") && !strings.Contains(src, `"`+f+`"`) {
					t.Errorf("alert %s uses %s, which the agent does not export", r.Alert, f)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("want at least 5 alerts, got %d", n)
	}
}

// agentSources returns the agent's non-test Go sources, where its metric names are declared.
func agentSources() (string, error) {
	var b strings.Builder
	for _, dir := range []string{"agent", "snapshot", "walpipe", "remotewrite", "wal", "ha"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			return "", err
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			b.Write(data)
		}
	}
	if b.Len() == 0 {
		return "", errors.New("no agent sources found")
	}
	return b.String(), nil
}

// TestNotes renders NOTES.txt (helm template leaves it out, so a copy of the
// chart carries it as a ConfigMap value) and checks it tells how to verify sending.
func TestNotes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chart")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "templates", "NOTES.txt"), filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	shim := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | toJson }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes.yaml"), []byte(shim), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := helm(t, "template", release, dir, "--namespace", namespace, "--show-only", "templates/notes.yaml",
		"-f", filepath.Join("testdata", "ha.values.yaml"), "--set", "externalLabels.cluster=prod-eu-1")
	if err != nil {
		t.Fatal(err)
	}
	notes := parse(t, out)[0].Data["notes"]
	for _, want := range []string{
		"kubectl -n monitoring port-forward statefulset/ksp-kube-state-push 8081",
		"curl -s localhost:8081/readyz",
		"kube_state_push_remote_write_(samples_sent_total|requests_total)",
		`time() - max(timestamp(kube_node_info{cluster="prod-eu-1"}))`,
		"kubectl -n monitoring get lease ksp-kube-state-push",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}

// TestReadmeExamples renders every values example of the README's Helm
// section, so they stay valid against the schema.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Helm\n")
	if !ok {
		t.Fatal("README.md has no Helm section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	n := 0
	for block := range strings.SplitSeq(section, "```yaml\n") {
		if n++; n == 1 {
			continue // the text before the first block
		}
		body, _, _ := strings.Cut(block, "```")
		file := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := render(t, file); err != nil {
			t.Errorf("README example %d:\n%s\n%v", n-1, body, err)
		}
	}
	if n-1 < 5 {
		t.Errorf("want 5 examples (Mimir, Thanos, AMP, Grafana Cloud, Prometheus), found %d", n-1)
	}
}

// TestCustomResourceRBAC: with customResourceState, the ClusterRole holds
// --print-rbac's rules for the same config: the collectors' (none with
// customResourceState.only), each custom resource's and discovery's.
func TestCustomResourceRBAC(t *testing.T) {
	bin := buildAgent(t)
	values := filepath.Join("testdata", "crs.values.yaml")
	for _, only := range []bool{true, false} {
		t.Run(fmt.Sprintf("only=%v", only), func(t *testing.T) {
			objs := parse(t, mustRender(t, values, fmt.Sprintf("customResourceState.only=%v", only)))
			cms := find(objs, "ConfigMap", namespace)
			if len(cms) != 1 {
				t.Fatalf("want one ConfigMap, got %d", len(cms))
			}
			file := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(file, []byte(cms[0].Data["config.yaml"]), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--print-rbac", "--config", file).Output()
			if err != nil {
				t.Fatalf("--print-rbac: %v", err)
			}
			var want struct {
				Rules []rbacv1.PolicyRule `json:"rules"`
			}
			if err := sigsyaml.Unmarshal(out, &want); err != nil {
				t.Fatalf("--print-rbac output: %v\n%s", err, out)
			}
			roles := find(objs, "ClusterRole", "*")
			if len(roles) != 1 {
				t.Fatalf("want one ClusterRole, got %d", len(roles))
			}
			if diff := cmp.Diff(want.Rules, roles[0].Rules); diff != "" {
				t.Errorf("ClusterRole rules differ from --print-rbac (-print-rbac +chart):\n%s", diff)
			}
		})
	}
}
