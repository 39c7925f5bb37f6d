package agent

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A reloaded configuration whose allowlist or --series-labels names an
// unknown resource is rejected, and the running one stays, like any other
// invalid configuration (it used to pass the checks and stop the agent when
// the new pipeline started).
func TestReloadRejectsUnknownResourceInLists(t *testing.T) {
	valid := Config{
		RemoteWriteURL: "http://127.0.0.1:9/api/v1/write", ResendInterval: time.Second, FlushInterval: time.Second,
		FlushDeadline: time.Second, RemoteTimeout: time.Second, MaxSamplesPerSend: 10, MaxPendingSamples: 100, TotalShards: 1,
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.SeriesLabels = map[string][]string{"podz": {"team"}} },
		func(c *Config) { c.LabelsAllowlist = map[string][]string{"podz": {"team"}} },
		func(c *Config) { c.AnnotationsAllowlist = map[string][]string{"podz": {"team"}} },
	} {
		cfg := valid
		hup := make(chan os.Signal, 1)
		cfg.ReloadSignal = hup
		cfg.Reload = func() (Config, error) {
			c := valid
			bad(&c)
			return c, nil
		}
		rm := newReloadMetrics()
		next := make(chan Config, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); watchConfig(ctx, cfg, next, rm, cancel) }()
		hup <- os.Interrupt
		deadline := time.Now().Add(5 * time.Second)
		for testutil.ToFloat64(rm.failures) < 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if got := testutil.ToFloat64(rm.failures); got != 1 {
			t.Errorf("reload failures = %v, want 1", got)
		}
		select {
		case c := <-next:
			t.Errorf("the invalid configuration was handed over: %v %v %v", c.LabelsAllowlist, c.AnnotationsAllowlist, c.SeriesLabels)
		default:
		}
	}
}

// A change of the custom resource state config file reloads like one of the
// --config file: a config that does not load is rejected, a valid one applied.
func TestReloadFollowsCustomResourceStateFile(t *testing.T) {
	file := t.TempDir() + "/crs.yaml"
	if err := os.WriteFile(file, []byte(widgetCRS), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		RemoteWriteURL: "http://127.0.0.1:9/api/v1/write", ResendInterval: time.Second, FlushInterval: time.Second,
		FlushDeadline: time.Second, RemoteTimeout: time.Second, MaxSamplesPerSend: 10, MaxPendingSamples: 100, TotalShards: 1,
		CustomResourceStateConfigFile: file, CustomResourceStateOnly: true,
	}
	valid := cfg
	cfg.Reload = func() (Config, error) { return valid, nil }
	rm := newReloadMetrics()
	next := make(chan Config, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); watchConfig(ctx, cfg, next, rm, cancel) }()
	defer func() { cancel(); <-done }()

	// Rewritten, each time different, until seen: watchConfig reads the
	// file's first content when it starts, which may be after a first write.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; testutil.ToFloat64(rm.failures) < 1 && time.Now().Before(deadline); i++ {
		bad := fmt.Sprintf("kind: CustomResourceStateMetrics\nspec: {resources: [{metrics: [{each: {type: Bogus}}]}]}\n# %d\n", i)
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := testutil.ToFloat64(rm.failures); got != 1 {
		t.Fatalf("reload failures = %v, want 1 for a config that does not load", got)
	}
	if err := os.WriteFile(file, []byte(widgetCRS+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-next:
	case <-time.After(10 * time.Second):
		t.Fatal("the changed custom resource state config was not reloaded")
	}
}
