package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const helmVersion = "v3.22.0"

// helmBinary is the helm that hack/build-components.sh caches.
func helmBinary(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("KSP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "kube-state-push")
	}
	p := filepath.Join(cache, "bin", "helm-"+helmVersion)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm %s not found at %s: run `make components`", helmVersion, p)
	}
	return p
}

// helmRun runs helm against the test cluster, with its state in a scratch directory.
func helmRun(t *testing.T, args ...string) string {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helmBinary(t), append([]string{"--kubeconfig", env.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// installChart installs the chart as release rel into ns and uninstalls it
// when the test ends.
func installChart(t *testing.T, rel, ns string, sets ...string) {
	t.Helper()
	args := []string{"install", rel, filepath.Join("..", "charts", "kube-state-push"), "--namespace", ns,
		"--set", "remoteWrite[0].url=" + env.promURL + "/api/v1/write"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	helmRun(t, args...)
	t.Cleanup(func() { helmRun(t, "uninstall", rel, "--namespace", ns, "--wait") })
}

// saClient impersonates the chart's ServiceAccount, as its pods would be.
func saClient(t *testing.T, ns, sa string) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	rc.Impersonate.UserName = "system:serviceaccount:" + ns + ":" + sa
	rc.Impersonate.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	return kubernetes.NewForConfigOrDie(rc)
}

// grantedIn lists what the ServiceAccount may do in ns (its cluster-wide rules
// included) beyond what any ServiceAccount may, as "verb group/resource[/name]".
func grantedIn(t *testing.T, c kubernetes.Interface, ns string) []string {
	t.Helper()
	// The default roles of system:authenticated and system:serviceaccounts
	// (self reviews, discovery, cluster trust bundles): what an unbound
	// ServiceAccount has.
	base := rulesIn(t, saClient(t, ns, "ksp-e2e-unbound"), ns)
	return slices.DeleteFunc(rulesIn(t, c, ns), func(r string) bool { return slices.Contains(base, r) })
}

func rulesIn(t *testing.T, c kubernetes.Interface, ns string) []string {
	t.Helper()
	r, err := c.AuthorizationV1().SelfSubjectRulesReviews().Create(testContext(t),
		&authzv1.SelfSubjectRulesReview{Spec: authzv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status.Incomplete {
		t.Fatalf("rules review incomplete: %s", r.Status.EvaluationError)
	}
	var out []string
	for _, rule := range r.Status.ResourceRules {
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					if len(rule.ResourceNames) == 0 {
						out = append(out, fmt.Sprintf("%s %s/%s", v, g, res))
					}
					for _, n := range rule.ResourceNames {
						out = append(out, fmt.Sprintf("%s %s/%s/%s", v, g, res, n))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// can asks the apiserver whether the ServiceAccount may do verb on a resource.
func can(t *testing.T, ns, sa, verb, group, resource, objNS, name string) bool {
	t.Helper()
	r, err := env.client.AuthorizationV1().SubjectAccessReviews().Create(testContext(t), &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{
			User:   "system:serviceaccount:" + ns + ":" + sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: objNS, Verb: verb, Group: group, Resource: resource, Name: name,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status.Allowed
}

// TestChartInstall installs the chart into the real apiserver in HA leader
// mode and checks the objects it creates and the ServiceAccount's rights:
// list and watch on each watched resource, get/create/update on its own Lease,
// and nothing else.
func TestChartInstall(t *testing.T) {
	suffix := time.Now().UnixNano() % 1_000_000
	ns := fmt.Sprintf("ksp-chart-%d", suffix)
	other := fmt.Sprintf("ksp-chart-other-%d", suffix)
	createNamespace(t, ns)
	createNamespace(t, other)
	rel := fmt.Sprintf("ksp%d", suffix)
	full := rel + "-kube-state-push"
	watched := []string{"pods", "deployments", "nodes", "secrets", "leases"}
	installChart(t, rel, ns, "ha.mode=leader", "replicas=2", "podDisruptionBudget.enabled=true",
		"collectors={"+strings.Join(watched, ",")+"}")
	ctx := testContext(t)

	// The objects are there.
	sa, err := env.client.CoreV1().ServiceAccounts(ns).Get(ctx, full, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the ServiceAccount mounts its token everywhere; only the agent's pods should")
	}
	for what, get := range map[string]func() error{
		"ConfigMap": func() error {
			_, err := env.client.CoreV1().ConfigMaps(ns).Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"Deployment": func() error {
			_, err := env.client.AppsV1().Deployments(ns).Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"Service": func() error {
			_, err := env.client.CoreV1().Services(ns).Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"PodDisruptionBudget": func() error {
			_, err := env.client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"ClusterRole": func() error {
			_, err := env.client.RbacV1().ClusterRoles().Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"ClusterRoleBinding": func() error {
			_, err := env.client.RbacV1().ClusterRoleBindings().Get(ctx, full, metav1.GetOptions{})
			return err
		},
		"Role": func() error {
			_, err := env.client.RbacV1().Roles(ns).Get(ctx, full+"-self", metav1.GetOptions{})
			return err
		},
		"RoleBinding": func() error {
			_, err := env.client.RbacV1().RoleBindings(ns).Get(ctx, full+"-self", metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	d, err := env.client.AppsV1().Deployments(ns).Get(ctx, full, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--ha-lease-name="+full) {
		t.Errorf("Deployment: replicas %d, args %q", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
	}

	// Everything the ServiceAccount may do, in its namespace and in another one.
	c := saClient(t, ns, full)
	var want []string
	for _, r := range []string{"/pods", "apps/deployments", "/nodes", "/secrets", "coordination.k8s.io/leases"} {
		want = append(want, "list "+r, "watch "+r)
	}
	wantOther := slices.Clone(want)
	want = append(want, "create coordination.k8s.io/leases",
		"get coordination.k8s.io/leases/"+full, "update coordination.k8s.io/leases/"+full,
		"watch coordination.k8s.io/leases/"+full)
	slices.Sort(want)
	slices.Sort(wantOther)
	got := grantedIn(t, c, ns)
	if !slices.Equal(got, want) {
		t.Errorf("ServiceAccount rights in %s:\n got %q\nwant %q", ns, got, want)
	}
	if got := grantedIn(t, c, other); !slices.Equal(got, wantOther) {
		t.Errorf("ServiceAccount rights in %s:\n got %q\nwant %q", other, got, wantOther)
	}
	t.Logf("rights in the release namespace: %q", got)

	// Spot checks through SubjectAccessReview, cluster-wide as the agent lists.
	for _, tc := range []struct {
		verb, group, resource, ns, name string
		allowed                         bool
	}{
		{"list", "", "pods", "", "", true},
		{"watch", "", "pods", "", "", true},
		{"list", "", "nodes", "", "", true},
		{"watch", "apps", "deployments", "", "", true},
		{"list", "", "secrets", "", "", true},
		{"get", "", "secrets", other, "any", false},
		{"get", "", "pods", other, "any", false},
		{"list", "", "configmaps", "", "", false},       // not watched
		{"list", "apps", "statefulsets", "", "", false}, // not watched
		{"list", "", "serviceaccounts", "", "", false},
		{"create", "", "pods", ns, "", false},
		{"delete", "apps", "deployments", ns, "x", false},
		{"update", "", "secrets", ns, "x", false},
		{"create", "coordination.k8s.io", "leases", ns, "", true},
		{"get", "coordination.k8s.io", "leases", ns, full, true},
		{"update", "coordination.k8s.io", "leases", ns, full, true},
		{"watch", "coordination.k8s.io", "leases", ns, full, true},
		{"update", "coordination.k8s.io", "leases", ns, "someone-else", false},
		{"delete", "coordination.k8s.io", "leases", ns, full, false},
		{"create", "coordination.k8s.io", "leases", other, "", false},
	} {
		if got := can(t, ns, full, tc.verb, tc.group, tc.resource, tc.ns, tc.name); got != tc.allowed {
			t.Errorf("can %s %s/%s in %q name %q: %v, want %v", tc.verb, tc.group, tc.resource, tc.ns, tc.name, got, tc.allowed)
		}
	}

	// The impersonated ServiceAccount really lists what it watches and is refused the rest.
	if _, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Errorf("list pods as the ServiceAccount: %v", err)
	}
	if _, err := c.CoreV1().Secrets(ns).Get(ctx, "anything", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("get secret as the ServiceAccount: %v, want forbidden", err)
	}
}

// TestChartNamespacedRBAC: with namespaces, namespaced resources are granted
// by a Role in each watched namespace only; cluster-scoped ones cluster-wide.
func TestChartNamespacedRBAC(t *testing.T) {
	suffix := time.Now().UnixNano() % 1_000_000
	ns := fmt.Sprintf("ksp-chartns-%d", suffix)
	watchedNS := fmt.Sprintf("ksp-chartns-w-%d", suffix)
	createNamespace(t, ns)
	createNamespace(t, watchedNS)
	rel := fmt.Sprintf("kspns%d", suffix)
	full := rel + "-kube-state-push"
	installChart(t, rel, ns, "collectors={pods,configmaps,nodes}", "namespaces={"+watchedNS+"}")

	c := saClient(t, ns, full)
	want := []string{"list /configmaps", "list /nodes", "list /pods", "watch /configmaps", "watch /nodes", "watch /pods"}
	if got := grantedIn(t, c, watchedNS); !slices.Equal(got, want) {
		t.Errorf("rights in the watched namespace %s:\n got %q\nwant %q", watchedNS, got, want)
	}
	if got, want := grantedIn(t, c, ns), []string{"list /nodes", "watch /nodes"}; !slices.Equal(got, want) {
		t.Errorf("rights in the release namespace %s (not watched):\n got %q\nwant %q", ns, got, want)
	}
	for _, tc := range []struct {
		verb, resource, ns string
		allowed            bool
	}{
		{"list", "pods", watchedNS, true},
		{"list", "pods", ns, false},
		{"list", "pods", "", false}, // not cluster-wide
		{"list", "nodes", "", true},
		{"get", "configmaps", watchedNS, false},
	} {
		if got := can(t, ns, full, tc.verb, "", tc.resource, tc.ns, ""); got != tc.allowed {
			t.Errorf("can %s %s in %q: %v, want %v", tc.verb, tc.resource, tc.ns, got, tc.allowed)
		}
	}
}

// TestChartUninstall: helm uninstall removes the cluster-wide objects too.
func TestChartUninstall(t *testing.T) {
	suffix := time.Now().UnixNano() % 1_000_000
	ns := fmt.Sprintf("ksp-chartun-%d", suffix)
	createNamespace(t, ns)
	rel := fmt.Sprintf("kspun%d", suffix)
	full := rel + "-kube-state-push"
	args := []string{"install", rel, filepath.Join("..", "charts", "kube-state-push"), "--namespace", ns,
		"--set", "remoteWrite[0].url=" + env.promURL + "/api/v1/write"}
	helmRun(t, args...)
	ctx := context.Background()
	if _, err := env.client.RbacV1().ClusterRoles().Get(ctx, full, metav1.GetOptions{}); err != nil {
		t.Fatalf("after install: %v", err)
	}
	helmRun(t, "uninstall", rel, "--namespace", ns, "--wait")
	eventually(t, 30*time.Second, "ClusterRole and Deployment deleted", func() error {
		if _, err := env.client.RbacV1().ClusterRoles().Get(ctx, full, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ClusterRole: %v", err)
		}
		if _, err := env.client.AppsV1().Deployments(ns).Get(ctx, full, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("Deployment: %v", err)
		}
		return nil
	})
}
