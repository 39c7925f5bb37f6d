package e2e

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

// TestMetricsEndpoint runs KSM v2.20.0 and the agent with --metrics-address
// against the same apiserver, with the fixtures of every resource, and
// asserts that the agent's /metrics is KSM's text: the same family blocks in
// the same order, the same HELP and TYPE lines, and every line byte for byte
// (lines compared as a set within a block, since KSM writes objects in map
// order), in text 0.0.4 and in OpenMetrics. Three runs, with the same flags on
// both sides: default flags; all 39 resources (with --enable-gzip-encoding,
// where the answers' Content-Type and Content-Encoding must agree too); all
// resources with every Kubernetes label and annotation allowed and both opt-in
// families (Secrets' last-applied annotation, which the agent never exports,
// is taken out of KSM's lines).
func TestMetricsEndpoint(t *testing.T) {
	applyFixtures(t)
	waitFixtures(t)
	all := "--resources=" + strings.Join(allKSMResources, ",")
	for _, run := range []struct {
		name  string
		flags []string
	}{
		{"default-flags", nil},
		{"all-resources", []string{all, "--enable-gzip-encoding"}},
		{"all-resources-and-allowlists", []string{all, "--metric-labels-allowlist=*=[*]", "--metric-annotations-allowlist=*=[*]",
			"--metric-opt-in-list=kube_pod_nodeselectors,kube_persistentvolume_csi_attributes"}},
	} {
		t.Run(run.name, func(t *testing.T) { compareMetricsEndpoint(t, run.flags) })
	}
}

// compareMetricsEndpoint starts KSM and the agent with flags and compares
// their /metrics.
func compareMetricsEndpoint(t *testing.T, flags []string) {
	ksm := startKSM(t, flags...)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ours := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	agent := startAgentFlags(t, append(slices.Clone(flags), "--metrics-address", fmt.Sprintf("127.0.0.1:%d", port))...)
	defer agent.stop(t)
	if dir := os.Getenv("KSP_METRICS_DUMP"); dir != "" {
		// Both expositions, to look into a difference.
		for name, url := range map[string]string{"ksm.txt": ksm.metricsURL, "ours.txt": ours} {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct{ name, accept string }{
		{"text", ""},
		{"openmetrics", "application/openmetrics-text;version=1.0.0"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		r, err := parity.RunText(ctx, parity.TextOptions{
			KSMURL: ksm.metricsURL, MetricsURL: ours, Accept: c.accept, Tries: 20, Interval: 2 * time.Second,
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := r.Write(&b, 5); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: KSM %s %v against the agent's /metrics:\n%s", c.name, ksmVersion, flags, b.String())
		if !r.OK() {
			t.Errorf("%s: text parity %.2f%%, want 100%% with the same blocks and order", c.name, r.Percent())
		}
		if r.KSMFamilies < 250 {
			t.Errorf("%s: KSM wrote %d family blocks, want every family of the resources", c.name, r.KSMFamilies)
		}
	}
	if !slices.Contains(flags, "--enable-gzip-encoding") {
		return
	}
	// The same answer headers for what scrapers send.
	for _, h := range []struct{ accept, encoding string }{
		{"", ""},
		{"", "gzip"},
		{"text/plain;version=0.0.4", "gzip, deflate"},
		{"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5," +
			"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", "gzip"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", ""},
	} {
		want := answerHeaders(t, ksm.metricsURL, h.accept, h.encoding)
		got := answerHeaders(t, ours, h.accept, h.encoding)
		if got != want {
			t.Errorf("Accept %q, Accept-Encoding %q: the agent answers %s, KSM %s", h.accept, h.encoding, got, want)
		}
	}
}

// answerHeaders fetches url and returns its Content-Type and Content-Encoding,
// checking that a gzipped body inflates.
func answerHeaders(t *testing.T, url, accept, encoding string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding) // set by hand: the transport leaves the body as it comes
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		body = zr
	}
	n, err := io.Copy(io.Discard, body)
	if err != nil || n == 0 {
		t.Fatalf("%s: read %d bytes: %v", url, n, err)
	}
	return fmt.Sprintf("%s Content-Type %q Content-Encoding %q", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
}
