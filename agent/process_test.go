package agent

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// The Go memory limit follows the container's: 90% of it, or what AUTOMEMLIMIT
// says; GOMEMLIMIT set in the environment wins, and a limit that cannot be
// read leaves it alone with a warning.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const container = 1000 << 20
	cases := []struct {
		name, gomemlimit, automemlimit string
		limit                          memlimit.Provider
		want                           int64
		log                            string
	}{
		{name: "container limit", limit: memlimit.Limit(container), want: container * 9 / 10, log: "gomemlimit_bytes=943718400"},
		{name: "AUTOMEMLIMIT ratio", automemlimit: "0.5", limit: memlimit.Limit(container), want: container / 2},
		{name: "AUTOMEMLIMIT off", automemlimit: "off", limit: memlimit.Limit(container), want: 123 << 20},
		{name: "GOMEMLIMIT wins", gomemlimit: "2GiB", limit: memlimit.Limit(container), want: 123 << 20},
		{name: "no limit", limit: func() (uint64, error) { return 0, memlimit.ErrNoLimit }, want: math.MaxInt64},
		{name: "unreadable", limit: func() (uint64, error) { return 0, errors.New("no cgroup") }, want: 123 << 20, log: "level=WARN"},
		{name: "bad ratio", automemlimit: "lots", limit: memlimit.Limit(container), want: 123 << 20, log: "AUTOMEMLIMIT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for name, v := range map[string]string{"GOMEMLIMIT": c.gomemlimit, "AUTOMEMLIMIT": c.automemlimit} {
				if v != "" {
					t.Setenv(name, v)
				} else {
					t.Setenv(name, "")
					os.Unsetenv(name)
				}
			}
			debug.SetMemoryLimit(123 << 20)
			var log bytes.Buffer
			SetMemoryLimit(slog.New(slog.NewTextHandler(&log, nil)), c.limit)
			if got := debug.SetMemoryLimit(-1); got != c.want {
				t.Errorf("memory limit %d, want %d", got, c.want)
			}
			if !strings.Contains(log.String(), c.log) {
				t.Errorf("log %q does not say %q", log.String(), c.log)
			}
		})
	}
}
