package ha

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/leaderelection"
)

// ErrInvalidConfig is wrapped by every configuration error of this package, so
// that the caller can tell bad configuration (exit status 2) from failures.
var ErrInvalidConfig = errors.New("invalid HA configuration")

// Defaults of Config, those of Kubernetes' own controllers.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Config configures an Elector. Zero durations take the defaults.
type Config struct {
	// LeaseName and LeaseNamespace name the coordination.k8s.io Lease the
	// replicas compete for. Replicas that send the same series must use the
	// same Lease; shards use one each (see ShardLeaseName).
	LeaseName      string
	LeaseNamespace string
	// Identity names this replica in the Lease. It must differ between the
	// replicas and should stay the same across restarts of one replica: the
	// pod name (see DefaultIdentity).
	Identity string

	// LeaseDuration is how long a standby waits, after it last saw the Lease
	// renewed, before it takes the Lease over. The Lease stores whole seconds,
	// so it must be a whole number of seconds.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader leads after the start of its last
	// successful renewal. It must be at least a second shorter than
	// LeaseDuration; the difference is the margin for clock offset between
	// the replicas (see the package documentation).
	RenewDeadline time.Duration
	// RetryPeriod is how often the leader renews, and how long a replica
	// waits before it retries a failed read of the Lease.
	RetryPeriod time.Duration
	// KeepLeaseOnCancel keeps the Lease when Run's context is cancelled, so a
	// standby takes over only after LeaseDuration. By default a cancelled Run
	// releases the Lease and a standby takes over at once.
	KeepLeaseOnCancel bool

	// OnStartedLeading, if set, is called when a term starts, and
	// OnStoppedLeading when it ends. Calls alternate, start first, are never
	// concurrent, and must return quickly: they hold up the renewals.
	OnStartedLeading func(*Term)
	OnStoppedLeading func()

	// Registerer, if set, receives the elector's metrics.
	Registerer prometheus.Registerer
}

// withDefaults returns c with zero durations set to the defaults.
func (c Config) withDefaults() Config {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = DefaultRenewDeadline
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = DefaultRetryPeriod
	}
	return c
}

// Validate checks c, with the defaults applied, and returns an error wrapping
// ErrInvalidConfig that names the first problem.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.LeaseName == "":
		return bad("lease name is empty")
	case c.LeaseNamespace == "":
		return bad("lease namespace is empty")
	case c.Identity == "":
		return bad("identity is empty")
	case strings.TrimSpace(c.Identity) != c.Identity:
		return bad("identity %q has leading or trailing spaces", c.Identity)
	}
	if errs := validation.IsDNS1123Subdomain(c.LeaseName); len(errs) > 0 {
		return bad("lease name %q: %s", c.LeaseName, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(c.LeaseNamespace); len(errs) > 0 {
		return bad("lease namespace %q: %s", c.LeaseNamespace, strings.Join(errs, "; "))
	}
	switch {
	case c.LeaseDuration < time.Second:
		return bad("lease duration %s is shorter than one second", c.LeaseDuration)
	case c.LeaseDuration%time.Second != 0:
		return bad("lease duration %s is not a whole number of seconds (a Lease stores seconds)", c.LeaseDuration)
	case c.RenewDeadline < 0:
		return bad("renew deadline %s is negative", c.RenewDeadline)
	case c.RetryPeriod < 0:
		return bad("retry period %s is negative", c.RetryPeriod)
	case c.RenewDeadline+time.Second > c.LeaseDuration:
		// The difference is the margin between the end of the old leader's
		// term and the start of the next one (see the package documentation).
		return bad("renew deadline %s must be at least one second shorter than the lease duration %s, "+
			"or a standby could take over while the leader still sends", c.RenewDeadline, c.LeaseDuration)
	case float64(c.RenewDeadline) <= leaderelection.JitterFactor*float64(c.RetryPeriod):
		return bad("renew deadline %s must be longer than %s times the retry period %s, or the leader cannot retry a failed renewal",
			c.RenewDeadline, strconv.FormatFloat(leaderelection.JitterFactor, 'g', -1, 64), c.RetryPeriod)
	}
	return nil
}

// DefaultIdentity returns podName if it is set; otherwise the host name with a
// random suffix, so that two processes on one host (host network, tests) never
// share an identity. Prefer the pod name: a restarted pod then takes its own
// Lease back at once instead of waiting for it to expire.
func DefaultIdentity(podName string) (string, error) {
	if podName != "" {
		return podName, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("host name for the leader-election identity: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return host + "_" + hex.EncodeToString(b[:]), nil
}

// ShardLeaseName returns the Lease name of one shard: the replicas of shard n
// compete for base-shard-n. The total is left out on purpose, so that a
// shard's Lease stays the same while the shard count changes.
func ShardLeaseName(base string, shard int) string {
	return base + "-shard-" + strconv.Itoa(shard)
}
