package agent

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// What the command does besides running the agent: its logger, its memory
// limit and --print-rbac. They are here, not in package main, so that the
// command only parses flags and calls these.

// NewLogger returns the logger of --log-level and --log-format, writing to w.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// memoryRatio is the part of the container's memory limit the Go runtime
// aims to stay under: the rest is for what it does not count (the binary's
// pages, thread stacks) and for the time a collection takes.
const memoryRatio = 0.9

// SetMemoryLimit sets the Go memory limit (GOMEMLIMIT) to memoryRatio of the
// memory limit of the container (its cgroup, read by limit:
// memlimit.FromCgroup), so that the garbage collector works harder before
// the container is killed for going over it. GOMEMLIMIT set in the
// environment wins; AUTOMEMLIMIT sets another ratio, or "off".
func SetMemoryLimit(logger *slog.Logger, limit memlimit.Provider) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	set, err := memlimit.Set(memlimit.WithProvider(limit), memlimit.WithRatio(memoryRatio))
	if err != nil {
		logger.Warn("Could not set the Go memory limit from the container's", "err", err)
		return
	}
	if set != math.MaxInt64 {
		logger.Info("Go memory limit set below the container's", "gomemlimit_bytes", set)
	}
}

// RBACManifest returns, for --print-rbac, the RBAC rules (list and watch)
// the resources of cfg need, and with --pod those of automatic sharding, for
// a Role in the pod's namespace.
func RBACManifest(cfg Config) (string, error) {
	names := cfg.Resources
	if len(names) == 0 {
		names = collectors.DefaultNames()
	}
	rs, err := collectors.Lookup(names)
	if err != nil {
		return "", fmt.Errorf("--resources: %w", err)
	}
	var b strings.Builder
	b.WriteString(collectors.RBACYAML(collectors.RBACRules(rs)))
	if cfg.Pod != "" {
		fmt.Fprintf(&b, "---\n# Role in namespace %s, for automatic sharding (--pod)\n", cfg.PodNamespace)
		b.WriteString(collectors.RBACYAML(ShardRBACRules()))
	}
	return b.String(), nil
}
