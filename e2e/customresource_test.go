package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

// crsTestdata is KSM v2.20's ground truth for custom resources: the CRDs, the
// objects and the config hack/ksm-crs-golden.sh captured KSM's output with.
var crsTestdata = filepath.Join("..", "customresource", "testdata", "ksm")

// TestCustomResourceState runs KSM v2.20 and the agent with the same custom
// resource state config (customresource/testdata/ksm/config.yaml, every key
// KSM reads) over the CRDs and objects of that directory, and asserts that
// the agent's /metrics and what it pushed to Prometheus hold every KSM series
// with its value and nothing else (job and instance aside, which the push
// adds), and that /metrics is KSM's text block for block. Then, on the pushed
// path: a status change, an object's deletion and its CRD's deletion each show
// in Prometheus within seconds, the deleted series ended by staleness markers;
// after them both sides agree again.
func TestCustomResourceState(t *testing.T) {
	crds, objects, config := filepath.Join(crsTestdata, "crds.yaml"), filepath.Join(crsTestdata, "objects.yaml"), filepath.Join(crsTestdata, "config.yaml")
	t.Cleanup(func() {
		// The CRDs' deletion deletes their objects, once the finalizer of
		// Application argocd/guestbook (no Argo CD here to remove it) is gone;
		// the namespaces go with objects.yaml.
		_ = kubectl("patch", "applications.argoproj.io", "guestbook", "-n", "argocd", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		_ = kubectl("delete", "-f", crds, "--ignore-not-found", "--wait=true", "--timeout=60s")
		_ = kubectl("delete", "-f", objects, "--ignore-not-found", "--wait=false")
	})
	// create, not apply, as the golden files were made: the nulls reach the apiserver.
	if err := kubectl("create", "-f", crds); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("create", "-f", objects); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--custom-resource-state-only", "--custom-resource-state-config-file", config}
	ksm := startKSM(t, flags...)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ours := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	agent := startAgentFlags(t, append(slices.Clone(flags), "--metrics-address", fmt.Sprintf("127.0.0.1:%d", port))...)
	defer agent.stop(t)

	checkCRSParity(t, "initial", ksm.metricsURL, ours, 250)

	// Per-object field errors are counted, never fatal.
	if n := agent.metric("kube_state_push_custom_resource_errors_total"); n == 0 {
		t.Error("kube_state_push_custom_resource_errors_total is 0; the fixtures have fields that do not convert")
	} else {
		t.Logf("kube_state_push_custom_resource_errors_total: %v", n)
	}

	// A status change.
	if err := queryValue(`argocd_app_sync_status{name="billing",sync_status="OutOfSync"}`, 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := kubectl("patch", "applications.argoproj.io", "billing", "-n", "argocd", "--type=merge", "-p",
		`{"status":{"sync":{"status":"Synced"},"health":{"status":"Healthy","message":null},"operationState":{"phase":"Succeeded","finishedAt":"2026-12-03T08:03:30Z"}}}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the status change pushed", func() error {
		if err := queryValue(`argocd_app_sync_status{name="billing",sync_status="Synced"}`, 1); err != nil {
			return err
		}
		return queryValue(`argocd_app_health_status{name="billing",health_status="Healthy"}`, 1)
	})
	t.Logf("status change visible in Prometheus after %s", time.Since(start).Round(time.Millisecond))

	// An object's deletion: its series end with staleness markers.
	if err := noSeries(`{customresource_kind="Certificate",name="api-tls"}`); err == nil {
		t.Fatal("Certificate team-a/api-tls has no pushed series before its deletion")
	}
	start = time.Now()
	if err := kubectl("delete", "certificates.cert-manager.io", "api-tls", "-n", "team-a", "--wait=false"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the deleted Certificate's series ended", func() error {
		return noSeries(`{customresource_kind="Certificate",name="api-tls"}`)
	})
	t.Logf("object deletion visible in Prometheus after %s", time.Since(start).Round(time.Millisecond))
	if err := noSeries(`{customresource_kind="Certificate"}`); err == nil {
		t.Error("every Certificate series ended with one deletion")
	}

	// A CRD's deletion: every series of its objects ends.
	if err := noSeries(`{__name__=~"upbound_bucket_.+"}`); err == nil {
		t.Fatal("no upbound_bucket_ series pushed before the CRD's deletion")
	}
	start = time.Now()
	if err := kubectl("delete", "customresourcedefinitions.apiextensions.k8s.io", "buckets.s3.aws.upbound.io", "--wait=false"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the deleted CRD's series ended", func() error {
		return noSeries(`{__name__=~"upbound_bucket_.+"}`)
	})
	t.Logf("CRD deletion visible in Prometheus after %s", time.Since(start).Round(time.Millisecond))

	checkCRSParity(t, "after the changes", ksm.metricsURL, ours, 200)
	if strings.Contains(agent.out.String(), "panic") {
		t.Error("the agent logged a panic")
	}
	var errs []string
	for _, l := range strings.Split(agent.out.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errs = append(errs, l)
		}
	}
	t.Logf("the agent logged %d errors%s", len(errs), strings.Join(append([]string{""}, errs[:min(len(errs), 5)]...), "\n  "))
}

// checkCRSParity compares KSM's /metrics with the agent's, as series (every
// KSM series with its value, none extra, the same families announced) and as
// text (the same blocks in the same order), and KSM's series with those the
// agent pushed to Prometheus (job and instance ignored), retrying while
// either side catches up. KSM must have at least minSeries series.
func checkCRSParity(t *testing.T, when, ksmURL, oursURL string, minSeries int) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		lastMetrics, lastPushed string
		ok                      bool
	)
	deadline := time.Now().Add(45 * time.Second)
	for try := 1; !ok && time.Now().Before(deadline); try++ {
		if try > 1 {
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		k, err := parity.ScrapeKSM(ctx, client, ksmURL)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		o, err := parity.ScrapeKSM(ctx, client, oursURL)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		pushed, err := parity.QueryPrometheus(ctx, client, env.promURL, `{customresource_group!=""}`, 0)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for i := range pushed {
			pushed[i].Labels = slices.DeleteFunc(pushed[i].Labels, func(l parity.Label) bool { return l.Name == "job" || l.Name == "instance" })
		}
		var mOK, pOK bool
		lastMetrics, mOK = crsReport(k, flatten(o), familyNames(o))
		lastPushed, pOK = crsReport(k, pushed, nil)
		ok = mOK && pOK && k.Series() >= minSeries
	}
	t.Logf("%s, /metrics against KSM %s: %s", when, ksmVersion, lastMetrics)
	t.Logf("%s, pushed against KSM %s: %s", when, ksmVersion, lastPushed)
	if !ok {
		t.Fatalf("%s: no parity within 45s (KSM needs at least %d series)", when, minSeries)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := parity.RunText(ctx, parity.TextOptions{KSMURL: ksmURL, MetricsURL: oursURL, Tries: 5, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.Write(&b, 5); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s, text:\n%s", when, b.String())
	if !r.OK() {
		t.Errorf("%s: text parity %.2f%%, want 100%% with the same blocks and order", when, r.Percent())
	}
}

// crsReport compares KSM's series with ours and reports whether every KSM
// series is there with its value and none is extra (nor, when announced is
// not nil, a family announced by one side only).
func crsReport(k parity.Exposition, ours []parity.Series, announced []string) (string, bool) {
	r := parity.Compare(k, ours, 0)
	missing, extra, differing := 0, 0, 0
	for _, d := range r.Families {
		missing += len(d.Missing)
		extra += len(d.Extra)
		differing += len(d.Differing)
	}
	var extraFamilies []string
	for _, s := range ours {
		if _, ok := k.Families[s.Name]; !ok && !slices.Contains(extraFamilies, s.Name) {
			extraFamilies = append(extraFamilies, s.Name)
		}
	}
	var onlyOne []string
	if announced != nil {
		for _, n := range k.FamilyNames() {
			if !slices.Contains(announced, n) {
				onlyOne = append(onlyOne, "KSM:"+n)
			}
		}
		for _, n := range announced {
			if _, ok := k.Families[n]; !ok {
				onlyOne = append(onlyOne, "ours:"+n)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d KSM series in %d families, %d matched (%.2f%%), %d missing, %d extra, %d differing, %d duplicate in KSM",
		r.KSMSeries, len(k.Families), r.Matched, r.Percent(), missing, extra+len(extraFamilies), differing, len(r.DuplicateKSM))
	if len(extraFamilies) > 0 {
		fmt.Fprintf(&b, "; extra families %v", extraFamilies)
	}
	if len(onlyOne) > 0 {
		fmt.Fprintf(&b, "; announced by one side only %v", onlyOne)
	}
	for name, d := range r.Families {
		for i, s := range d.Missing {
			if i < 3 {
				fmt.Fprintf(&b, "\n  missing %s %v", name, s)
			}
		}
		for i, s := range d.Extra {
			if i < 3 {
				fmt.Fprintf(&b, "\n  extra %s %v", name, s)
			}
		}
		for i, s := range d.Differing {
			if i < 3 {
				fmt.Fprintf(&b, "\n  differing %s %v", name, s)
			}
		}
	}
	ok := r.OK() && len(extraFamilies) == 0 && len(onlyOne) == 0
	return b.String(), ok
}

// flatten returns every series of an exposition.
func flatten(e parity.Exposition) []parity.Series {
	var out []parity.Series
	for _, name := range e.FamilyNames() {
		out = append(out, e.Families[name]...)
	}
	return out
}

func familyNames(e parity.Exposition) []string { return e.FamilyNames() }
