package agent

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The grammars and the config file are what users type: whatever the bytes,
// parsing returns a value or a one-line error, and never panics.

func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{
		"", "pods=[app,team-*]", "*=[*]", "pods=[app],deployments=[team]", " pods = [ a , b ] , nodes=[]",
		"pods=[a**]", "pods", "pods=[a", "pods=a]", "=[a]", "pods=[a]nodes=[b]", "a]b=[x],c,d=[y]",
		"pods=[app.kubernetes.io/name]", "pods=[a],pods=[b]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAllowList(s)
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		// What parsed renders back to a list that parses to the same.
		var b strings.Builder
		for i, res := range slices.Sorted(maps.Keys(got)) {
			if strings.TrimSpace(res) != res || res == "" {
				t.Fatalf("resource %q kept surrounding space or is empty", res)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(res + "=[" + strings.Join(got[res], ",") + "]")
			for _, k := range got[res] {
				if k == "" || strings.Count(k, "*") > 1 {
					t.Fatalf("key %q of %s accepted", k, res)
				}
			}
		}
		again, err := ParseAllowList(b.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("%q parsed to %v; rendered %q parses to %v, %v", s, got, b.String(), again, err)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1Gi", "512Mi", "100M", "1000000", "-1Gi", "", "1e3", "0.5Ki", "9999999999999999999Ei"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("%q: %d", s, n)
		}
	})
}

func FuzzLoadFile(f *testing.F) {
	for _, s := range []string{
		"", "resources: [pods, nodes]\n", "resend_interval: 30s\njob: ksm\n", "resend_interval: 30\n",
		"- a\n- b\n", "unknown: 1\n", "job: a\njob: b\n", "metric_labels_allowlist: pods=[app]\n",
		"remote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n", "remote_write: 3\n",
		"external_labels: {cluster: a}\n", "wal_max_size: 1Gi\n", "series_labels: {pods: [team]}\n",
		"\t:\n", "a: [\n", "&a [*a]\n", "resources: *x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var c Config
		err := LoadFile(path, &c)
		if err == nil {
			return
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("error not a ConfigError: %T %v", err, err)
		}
		if msg := err.Error(); strings.ContainsRune(msg, '\n') || !strings.Contains(msg, path) {
			t.Fatalf("want one line naming the file, got %q", msg)
		}
	})
}

// Sizes are Kubernetes quantities from 0 to just below 8Ei.
func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"1Gi": 1 << 30, "512Mi": 512 << 20, "100M": 100e6, "0": 0, "0.5Ki": 512, "7Ei": 7 << 60} {
		if n, err := ParseSize(s); err != nil || n != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, n, err, want)
		}
	}
	for _, s := range []string{"-1Gi", "8Ei", "9999999Ei", "7900011001070000218E", "1GB", ""} {
		if n, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", s, n)
		}
	}
}
