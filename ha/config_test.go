package ha

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{LeaseName: "kube-state-push", LeaseNamespace: "monitoring", Identity: "ksp-0"}
	f := func(name string, mutate func(*Config), wantErr string) {
		t.Helper()
		c := ok
		mutate(&c)
		err := c.Validate()
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case wantErr == "":
		case err == nil:
			t.Errorf("%s: no error, want one containing %q", name, wantErr)
		case !errors.Is(err, ErrInvalidConfig):
			t.Errorf("%s: %v does not wrap ErrInvalidConfig", name, err)
		case !strings.Contains(err.Error(), wantErr):
			t.Errorf("%s: %q does not contain %q", name, err, wantErr)
		}
	}
	f("defaults", func(*Config) {}, "")
	f("explicit defaults", func(c *Config) {
		c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 15*time.Second, 10*time.Second, 2*time.Second
	}, "")
	f("shortest", func(c *Config) {
		c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 2*time.Second, time.Second, 800*time.Millisecond
	}, "")
	f("no lease name", func(c *Config) { c.LeaseName = "" }, "lease name is empty")
	f("bad lease name", func(c *Config) { c.LeaseName = "Kube_State" }, `lease name "Kube_State"`)
	f("no namespace", func(c *Config) { c.LeaseNamespace = "" }, "lease namespace is empty")
	f("bad namespace", func(c *Config) { c.LeaseNamespace = "a.b" }, `lease namespace "a.b"`)
	f("no identity", func(c *Config) { c.Identity = "" }, "identity is empty")
	f("identity with spaces", func(c *Config) { c.Identity = " ksp-0" }, "spaces")
	f("sub-second lease", func(c *Config) { c.LeaseDuration = 500 * time.Millisecond }, "shorter than one second")
	f("fractional lease", func(c *Config) { c.LeaseDuration = 2500 * time.Millisecond }, "whole number of seconds")
	f("negative renew deadline", func(c *Config) { c.RenewDeadline = -time.Second }, "renew deadline -1s is negative")
	f("negative retry period", func(c *Config) { c.RetryPeriod = -time.Second }, "retry period -1s is negative")
	f("renew deadline = lease", func(c *Config) { c.LeaseDuration, c.RenewDeadline = 10*time.Second, 10*time.Second },
		"at least one second shorter than the lease duration")
	f("renew deadline within a second of the lease", func(c *Config) {
		c.LeaseDuration, c.RenewDeadline = 10*time.Second, 9500*time.Millisecond
	}, "at least one second shorter than the lease duration")
	f("renew deadline vs retry period", func(c *Config) { c.RetryPeriod = 9 * time.Second },
		"longer than 1.2 times the retry period 9s")
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(newLeaseStore().client("a"), Config{LeaseNamespace: "monitoring", Identity: "a"}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New without a lease name = %v, want ErrInvalidConfig", err)
	}
	if _, err := New(nil, fastConfig("a"), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New without a client = %v, want ErrInvalidConfig", err)
	}
	e, err := New(newLeaseStore().client("a"), Config{LeaseName: "l", LeaseNamespace: "n", Identity: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.cfg; c.LeaseDuration != DefaultLeaseDuration || c.RenewDeadline != DefaultRenewDeadline || c.RetryPeriod != DefaultRetryPeriod {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestDefaultIdentity(t *testing.T) {
	if id, err := DefaultIdentity("ksp-7d9f-x2"); err != nil || id != "ksp-7d9f-x2" {
		t.Errorf("DefaultIdentity(pod) = %q, %v", id, err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	a, err := DefaultIdentity("")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DefaultIdentity("")
	if !strings.HasPrefix(a, host+"_") || a == b {
		t.Errorf("DefaultIdentity(\"\") = %q then %q, want %s_<random>, different each time", a, b, host)
	}
}

func TestShardLeaseName(t *testing.T) {
	if got := ShardLeaseName("kube-state-push", 3); got != "kube-state-push-shard-3" {
		t.Errorf("ShardLeaseName = %q", got)
	}
}
