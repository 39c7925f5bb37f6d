package agent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ksp "github.com/kube-state-push/kube-state-push/collectors"
)

// reloadMetrics outlive the pipeline generations a reload replaces.
type reloadMetrics struct {
	failures    prometheus.Counter
	lastSuccess prometheus.Gauge
	reloads     prometheus.Counter
}

func newReloadMetrics() *reloadMetrics {
	return &reloadMetrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_config_reload_failures_total",
			Help: "New configurations rejected; the running one stayed.",
		}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_config_reloads_total",
			Help: "New configurations applied.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_config_last_reload_success_timestamp_seconds",
			Help: "When the running configuration was loaded.",
		}),
	}
}

func (m *reloadMetrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.failures, m.reloads, m.lastSuccess)
}

// Run runs the agent until ctx is done, then shuts down gracefully. It returns
// a *ConfigError for bad configuration and another error when the apiserver
// cannot be used. With Config.Reload set, a new configuration (on
// Config.ReloadSignal, or when Config.ConfigFile changes) replaces the running
// pipeline after a graceful stop; a configuration that does not load or
// validate is rejected with a log line and a metric, and the running one stays.
func Run(ctx context.Context, cfg Config) error {
	rm := newReloadMetrics()
	rm.lastSuccess.SetToCurrentTime()
	for {
		genCtx, stop := context.WithCancel(ctx)
		next := make(chan Config, 1)
		watchDone := make(chan struct{})
		go func() { defer close(watchDone); watchConfig(genCtx, cfg, next, rm, stop) }()
		err := runOnce(genCtx, cfg, rm)
		stop()
		<-watchDone
		if ctx.Err() != nil {
			return nil // a signal: whatever was starting stops cleanly
		}
		if err != nil {
			return err
		}
		select {
		case c := <-next:
			cfg = c
			rm.reloads.Inc()
			rm.lastSuccess.SetToCurrentTime()
		default:
			return nil
		}
	}
}

// watchConfig waits for a reload request or a change of the config file (or
// of the custom resource state config file),
// loads and checks the new configuration, and when it is valid hands it over
// and stops the running generation.
func watchConfig(ctx context.Context, cfg Config, next chan<- Config, rm *reloadMetrics, stop func()) {
	if cfg.Reload == nil {
		<-ctx.Done()
		return
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	current := watchedContent(&cfg)
	poll := time.NewTicker(reloadPoll)
	defer poll.Stop()
	for {
		trigger := "file change"
		select {
		case <-ctx.Done():
			return
		case <-cfg.ReloadSignal:
			trigger = "SIGHUP"
		case <-poll.C:
			c := watchedContent(&cfg)
			if bytes.Equal(c, current) {
				continue
			}
			current = c
		}
		nc, err := cfg.Reload()
		var resources []ksp.Resource
		if err == nil {
			resources, err = nc.validate()
		}
		if err == nil {
			// The allowlists and --series-labels: an unknown resource would
			// otherwise stop the agent when the new generation starts.
			_, err = generatorOptions(&nc, resources)
		}
		if err == nil {
			_, err = endpoints(&nc)
		}
		if err != nil {
			rm.failures.Inc()
			logger.Error("Rejected the new configuration; the running one stays", "trigger", trigger, "err", err)
			continue
		}
		logger.Info("Applying the new configuration: restarting the pipeline", "trigger", trigger)
		nc.Reload, nc.ReloadSignal, nc.ConfigFile = cfg.Reload, cfg.ReloadSignal, cfg.ConfigFile
		next <- nc
		stop()
		return
	}
}

// reloadPoll is how often the config file is checked for changes.
const reloadPoll = 2 * time.Second

// watchedContent is what a reload follows: the --config file's content and
// the custom resource state config file's.
func watchedContent(cfg *Config) []byte {
	c := fileContent(cfg.ConfigFile)
	if cfg.CustomResourceStateConfigFile != "" {
		c = append(append(c, 0), fileContent(cfg.CustomResourceStateConfigFile)...)
	}
	return c
}

func fileContent(path string) []byte {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return b
}
