package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

// allKSMResources are the 39 resources of KSM v2.20: its 32 defaults and the 7
// opt-in ones (clusterrolebindings, clusterroles, endpoints, ingressclasses,
// rolebindings, roles, serviceaccounts).
var allKSMResources = []string{
	"certificatesigningrequests", "clusterrolebindings", "clusterroles", "configmaps", "cronjobs",
	"daemonsets", "deployments", "endpoints", "endpointslices", "horizontalpodautoscalers",
	"ingressclasses", "ingresses", "jobs", "leases", "limitranges", "mutatingadmissionpolicies",
	"mutatingadmissionpolicybindings", "mutatingwebhookconfigurations", "namespaces", "networkpolicies",
	"nodes", "persistentvolumeclaims", "persistentvolumes", "poddisruptionbudgets", "pods", "replicasets",
	"replicationcontrollers", "resourcequotas", "rolebindings", "roles", "secrets", "serviceaccounts",
	"services", "statefulsets", "storageclasses", "validatingadmissionpolicies",
	"validatingadmissionpolicybindings", "validatingwebhookconfigurations", "volumeattachments",
}

// parityLookback is the lookback delta of the comparison's queries: a few
// resend intervals, so that series an earlier agent left without a staleness
// marker (it stopped before it saw a deletion) are not taken for extra ones.
const parityLookback = 5 * resendInterval

// TestParity compares, series by series, what KSM v2.20.0 exposes for the
// fixtures (testdata/fixtures, every resource KSM knows) with what the agent
// puts into Prometheus, first with default flags, then with all 39 resources,
// every label and annotation allowed and both opt-in families: KSM and the
// agent get the same flags each time. It logs the parity report and fails
// unless every KSM series is in Prometheus with the same value and nothing more.
func TestParity(t *testing.T) {
	applyFixtures(t)
	waitFixtures(t)
	runs := []struct {
		name  string
		flags []string
	}{
		{"default-flags", nil},
		{"all-resources-and-allowlists", []string{
			"--resources=" + strings.Join(allKSMResources, ","),
			"--metric-labels-allowlist=*=[*]",
			"--metric-annotations-allowlist=*=[*]",
			"--metric-opt-in-list=kube_pod_nodeselectors,kube_persistentvolume_csi_attributes",
		}},
	}
	// The runs share one Prometheus; each later run exposes a superset of the
	// earlier one's series, so they go in this order.
	for _, run := range runs {
		ok := t.Run(run.name, func(t *testing.T) {
			compareWithKSM(t, run.flags)
			if run.flags == nil {
				checkDetectsDifference(t)
			}
		})
		if !ok {
			t.Logf("%s failed; later runs go on", run.name)
		}
	}
}

// compareWithKSM starts KSM and the agent with the same flags, waits for both,
// and compares them through Prometheus.
func compareWithKSM(t *testing.T, flags []string) {
	ksm := startKSM(t, flags...)
	startAgentFlags(t, flags...)
	// Enough tries to outlast the lookback, at 2 s apart.
	r := compareRun(t, ksm, int(parityLookback/(2*time.Second))+3)
	var b strings.Builder
	if err := r.Write(&b, 5); err != nil {
		t.Fatal(err)
	}
	t.Logf("KSM %s %v against the agent:\n%s", ksmVersion, flags, b.String())
	if !r.OK() {
		t.Errorf("parity %.2f%%, want 100%% and nothing extra", r.Percent())
	}
}

// compareRun runs the comparison of ksm with Prometheus.
func compareRun(t *testing.T, ksm *ksmProc, tries int) parity.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := parity.Run(ctx, parity.Options{
		KSMURL:        ksm.metricsURL,
		PrometheusURL: env.promURL,
		Tolerance:     2 * time.Second,
		Lookback:      parityLookback,
		Tries:         tries,
		Interval:      2 * time.Second,
		// What the agent adds as a scrape would (--job, --instance).
		IgnoreLabels: []string{"job", "instance"},
	})
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	return r
}

// checkDetectsDifference shows that the comparison can fail on the live
// cluster: a second KSM that also emits namespace labels differs from the
// running default-flags agent in kube_namespace_labels, one series per
// namespace. (Other families may differ for a moment, as objects change.)
func checkDetectsDifference(t *testing.T) {
	ksm := startKSM(t, "--metric-labels-allowlist=namespaces=[team]")
	r := compareRun(t, ksm, 1)
	var b strings.Builder
	_ = r.Write(&b, 3)
	if r.OK() {
		t.Fatalf("a KSM with a labels allowlist matched an agent without one:\n%s", b.String())
	}
	nss, err := env.client.CoreV1().Namespaces().List(testContext(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Families["kube_namespace_labels"]
	if d == nil || len(d.Missing) != len(nss.Items) || len(d.Extra) != 0 || len(d.Differing) != 0 {
		t.Errorf("want %d kube_namespace_labels series missing, got:\n%s", len(nss.Items), b.String())
	}
}

// waitFixtures waits until the controllers have done their part: workloads
// run on the kwok nodes, the jobs finished, claims are bound, the patched and
// deleted objects show it.
func waitFixtures(t *testing.T) {
	t.Helper()
	ctx := testContext(t)
	for _, c := range fixtureChecks(ctx) {
		eventually(t, 2*time.Minute, c.what, c.check)
	}
}

type fixtureCheck struct {
	what  string
	check func() error
}

func expect(what string, ok bool, got any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s: %+v", what, got)
}
