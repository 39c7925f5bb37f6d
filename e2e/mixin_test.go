package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The kubernetes-mixin's alerting and recording rules that read KSM series
// (testdata/mixin, rendered as kube-prometheus installs them), run unchanged
// but for their `for:` durations, identically on every side.
const (
	mixinDir       = "testdata/mixin"
	mixinWorkloads = "testdata/mixin/workloads"
	mixinQuotas    = "testdata/mixin/quotas.yaml"
	mixinPatches   = "testdata/mixin/status-patches.yaml"
	mixinFor       = "1m"
	mixinEval      = 10 * time.Second
	ksmScrape      = 30 * time.Second
	mixinNamespace = "e2e-mixin"
)

// drivenAlerts are the alerts the workloads of testdata/mixin drive: each must
// fire on every side.
var drivenAlerts = []string{
	"KubePodCrashLooping", "KubePodNotReady", "KubeContainerWaiting",
	"KubeDeploymentReplicasMismatch", "KubeDeploymentRolloutStuck",
	"KubeStatefulSetReplicasMismatch", "KubeHpaMaxedOut", "KubeJobFailed",
	"KubePdbNotEnoughHealthyPods", "KubePersistentVolumeErrors",
	"KubeCPUOvercommit", "KubeMemoryOvercommit", "KubeCPUQuotaOvercommit", "KubeMemoryQuotaOvercommit",
	"KubeQuotaAlmostFull", "KubeQuotaFullyUsed", "KubeQuotaExceeded",
}

// mixinSide is one Prometheus that evaluates the rules: on KSM's scraped
// series, or on the series an agent pushes with a resend interval.
type mixinSide struct {
	name   string
	resend time.Duration // 0: the side that scrapes KSM
	prom   *receiverProc
}

// mixinAlert is an active alert of /api/v1/alerts.
type mixinAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

// TestMixin runs the mixin's rules in two kinds of Prometheus 3.16 in one run
// on the same cluster: one scraping KSM v2.20 every 30 s as kube-prometheus
// does (job="kube-state-metrics", honor_labels), and, for each resend interval
// (30 s, the default, then 60 s and 120 s), one receiving an agent's push with
// its default labels. With workloads in the states the alerts watch, it shows
// that (a) the same alerts fire with the same labels on every side (instance
// aside: KSM's is its address, the agent's its --instance), (b) the pushed
// side's alerts start pending no later than KSM's, and (c) every recording
// rule gives the same result set.
func TestMixin(t *testing.T) {
	rules := writeMixinRules(t)
	ksm := startKSM(t)
	ksmURL, err := url.Parse(ksm.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	bin := prometheus3(t)
	sides := []*mixinSide{{name: "KSM scraped every 30s"}}
	for _, resend := range []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second} {
		sides = append(sides, &mixinSide{name: fmt.Sprintf("pushed, resend %s", resend), resend: resend})
	}
	for _, s := range sides {
		config := fmt.Sprintf("global:\n  scrape_interval: %s\n  evaluation_interval: %s\nrule_files: [%q, %q]\n",
			ksmScrape, mixinEval, filepath.Join(rules, "ksm-alerts.yaml"), filepath.Join(rules, "ksm-rules.yaml"))
		if s.resend == 0 {
			config += fmt.Sprintf("scrape_configs:\n- job_name: kube-state-metrics\n  honor_labels: true\n  static_configs: [{targets: [%q]}]\n", ksmURL.Host)
		}
		s.prom = startPrometheus(t, &receiverProc{}, bin, config, "", "http")
	}
	for _, s := range sides[1:] {
		startAgentFlags(t, "--remote-write-url", s.prom.url+"/api/v1/write", "--resend-interval", s.resend.String())
	}
	eventually(t, 2*ksmScrape, "KSM scraped", func() error {
		res, err := sides[0].prom.query(`up{job="kube-state-metrics"} == 1`)
		if err == nil && len(res) != 1 {
			err = fmt.Errorf("up: %v", res)
		}
		return err
	})

	start := time.Now()
	driveMixinWorkloads(t)

	// (a) Every driven alert fires on every side, and the same alerts fire.
	firing := map[string]map[string]mixinAlert{}
	eventually(t, 8*time.Minute, "the driven alerts firing, the same on every side", func() error {
		for _, s := range sides {
			as, err := activeAlerts(s.prom)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			firing[s.name] = as
			names := map[string]bool{}
			for _, a := range as {
				if a.State == "firing" {
					names[a.Labels["alertname"]] = true
				}
			}
			var missing []string
			for _, n := range drivenAlerts {
				if !names[n] {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("%s: not firing: %s", s.name, strings.Join(missing, ", "))
			}
		}
		for _, s := range sides[1:] {
			if d := diffFiring(firing[sides[0].name], firing[s.name]); d != "" {
				return fmt.Errorf("%s against %s:\n%s", s.name, sides[0].name, d)
			}
		}
		return nil
	})
	t.Logf("%d alerts firing on every side, %.0f s after the workloads were created", countFiring(firing[sides[0].name]), time.Since(start).Seconds())

	// (b) Alerts the workloads started are pending no later on a pushed side.
	// A change can land in a rule evaluation through a scrape that follows
	// it at once while the push is still on its way: then the pushed side
	// is one evaluation later, never more.
	ksmAlerts := firing[sides[0].name]
	keys := slices.Sorted(maps.Keys(ksmAlerts))
	var report strings.Builder
	fmt.Fprintf(&report, "pending earlier than KSM's, by side (s): ")
	for _, s := range sides[1:] {
		var leads []float64
		later := 0
		for _, k := range keys {
			ka, pa := ksmAlerts[k], firing[s.name][k]
			if ka.ActiveAt.Before(start) {
				continue // active before the workloads: the sides started at different moments
			}
			lead := ka.ActiveAt.Sub(pa.ActiveAt)
			if s == sides[1] {
				t.Logf("%s: pending at %s on KSM's side, %s here", k, ka.ActiveAt.Sub(start).Round(time.Second), pa.ActiveAt.Sub(start).Round(time.Second))
			}
			leads = append(leads, lead.Seconds())
			if lead < 0 {
				later++
			}
			if lead < -mixinEval {
				t.Errorf("%s: %s pending at %s, %s after KSM's side", s.name, k, pa.ActiveAt.Format(time.TimeOnly), -lead)
			}
		}
		sort.Float64s(leads)
		if len(leads) == 0 {
			t.Fatalf("%s: no alert the workloads started", s.name)
		}
		fmt.Fprintf(&report, "%s: %d alerts, min %.0f, median %.0f, max %.0f, %d one evaluation later; ",
			s.name, len(leads), leads[0], leads[len(leads)/2], leads[len(leads)-1], later)
	}
	t.Log(report.String())

	// (c) Every recording rule gives the same result set on every side, and
	// not an empty one.
	records := mixinRecords(t)
	eventually(t, 3*time.Minute, "recording rules equal on every side", func() error {
		at := time.Now().Add(-mixinEval)
		want := map[string][]string{}
		for _, r := range records {
			res, err := queryURL(http.DefaultClient, sides[0].prom.url, "", "", r, at)
			if err != nil {
				return err
			}
			if len(res) == 0 {
				return fmt.Errorf("%s: no series on %s", r, sides[0].name)
			}
			want[r] = recordLines(res)
		}
		for _, s := range sides[1:] {
			for _, r := range records {
				res, err := queryURL(http.DefaultClient, s.prom.url, "", "", r, at)
				if err != nil {
					return err
				}
				if got := recordLines(res); !slices.Equal(got, want[r]) {
					return fmt.Errorf("%s on %s:\n%s\nwant (%s):\n%s", r, s.name, strings.Join(got, "\n"), sides[0].name, strings.Join(want[r], "\n"))
				}
			}
		}
		return nil
	})
	t.Logf("%d recording rules give the same result on every side", len(records))
}

// writeMixinRules writes the mixin's rule files with every `for:` set to
// mixinFor into a directory that every side's Prometheus reads them from:
// the same file path and group names give the same evaluation times.
func writeMixinRules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	forRe := regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`)
	for _, f := range []string{"ksm-alerts.yaml", "ksm-rules.yaml"} {
		data, err := os.ReadFile(filepath.Join(mixinDir, f))
		if err != nil {
			t.Fatal(err)
		}
		data = forRe.ReplaceAll(data, []byte("${1}"+mixinFor))
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mixinRecords returns the names the recording rules record.
func mixinRecords(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(mixinDir, "ksm-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record string `json:"record"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" && !slices.Contains(out, r.Record) {
				out = append(out, r.Record)
			}
		}
	}
	return out
}

// driveMixinWorkloads creates testdata/mixin's workloads, sets the status no
// controller here sets once kwok runs the pods, then adds the quotas; all of
// it is deleted when the test ends.
func driveMixinWorkloads(t *testing.T) {
	t.Helper()
	dc := dynamicClient(t)
	steps := loadFixtureSteps(t, mixinPatches)
	t.Cleanup(func() {
		if err := kubectl("delete", "-f", mixinQuotas, "--ignore-not-found", "--wait=false"); err != nil {
			t.Logf("clean-up: %v", err)
		}
		deleteFixtureSet(t, dc, mixinWorkloads, steps)
	})
	if err := kubectl("apply", "-f", mixinWorkloads); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, name := range []string{"crashing", "pulling"} {
		eventually(t, time.Minute, "pod "+name+" running", func() error {
			p, err := env.client.CoreV1().Pods(mixinNamespace).Get(ctx, name, metav1.GetOptions{})
			if err == nil && p.Status.Phase != v1.PodRunning {
				err = fmt.Errorf("phase %s", p.Status.Phase)
			}
			return err
		})
	}
	takeSteps(t, dc, steps)
	if err := kubectl("apply", "-f", mixinQuotas); err != nil {
		t.Fatal(err)
	}
}

// activeAlerts returns the active alerts of a Prometheus by alertKey.
func activeAlerts(r *receiverProc) (map[string]mixinAlert, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/api/v1/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []mixinAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("alerts: %s: %w", resp.Status, err)
	}
	out := map[string]mixinAlert{}
	for _, a := range body.Data.Alerts {
		out[alertKey(a.Labels)] = a
	}
	return out, nil
}

// alertKey is an alert's name and labels, without instance: a scrape's is
// KSM's address, a push's the agent's --instance.
func alertKey(ls map[string]string) string {
	var b strings.Builder
	b.WriteString(ls["alertname"])
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if k != "alertname" && k != "instance" {
			fmt.Fprintf(&b, " %s=%q", k, ls[k])
		}
	}
	return b.String()
}

// diffFiring lists the alerts firing on one side only.
func diffFiring(want, got map[string]mixinAlert) string {
	var d []string
	for k, a := range want {
		if a.State == "firing" && got[k].State != "firing" {
			d = append(d, "missing: "+k)
		}
	}
	for k, a := range got {
		if a.State == "firing" && want[k].State != "firing" {
			d = append(d, "extra: "+k)
		}
	}
	slices.Sort(d)
	return strings.Join(d, "\n")
}

func countFiring(as map[string]mixinAlert) int {
	n := 0
	for _, a := range as {
		if a.State == "firing" {
			n++
		}
	}
	return n
}

// recordLines renders a recording rule's result, without instance, sorted.
func recordLines(res []promSample) []string {
	out := make([]string, len(res))
	for i, s := range res {
		delete(s.Labels, "instance")
		out[i] = s.String()
	}
	slices.Sort(out)
	return out
}
