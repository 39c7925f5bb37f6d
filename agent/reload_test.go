package agent

import (
	"context"
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
