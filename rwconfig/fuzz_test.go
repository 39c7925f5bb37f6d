package rwconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// aliasBomb expands to 10^9 nodes through nested aliases ("billion laughs");
// the walks that follow aliases visit every one of them.
var aliasBomb = "remote_write:\n- &a [x,x,x,x,x,x,x,x,x,x]\n" + func() string {
	var b strings.Builder
	for c := 'b'; c <= 'i'; c++ {
		fmt.Fprintf(&b, "- &%c [%s]\n", c, strings.TrimSuffix(strings.Repeat("*"+string(c-1)+",", 10), ","))
	}
	return b.String()
}()

// FuzzLoad parses arbitrary bytes as a remote_write configuration file. It
// must not panic, and a bad file is an *Error whose message is one line, as
// the agent logs it and a Kubernetes event shows it.
func FuzzLoad(f *testing.F) {
	for _, doc := range []string{
		"",
		"remote_write:\n  - url: http://prometheus:9090/api/v1/write\n",
		y("external_labels:", "  cluster: ${KSP_FUZZ_CLUSTER}", "  region: eu", "remote_write:",
			"  - url: https://mimir/api/v1/push", "    name: mimir", "    remote_timeout: 10s",
			"    headers: {X-Scope-OrgID: team}", "    protobuf_message: io.prometheus.write.v2.Request",
			"    basic_auth: {username: u, password: p}",
			"    queue_config: {capacity: 100, max_shards: 4, min_backoff: 1s, max_backoff: 1m}",
			"    metadata_config: {send: false}",
			"    write_relabel_configs:", "      - source_labels: [__name__]", "        regex: kube_pod_.*", "        action: keep"),
		y("remote_write:", "  - url: http://a/", "  - url: http://a/"),
		y("remote_write:", "  - url: http://a/", "    sigv4: {region: us-east-1}", "    azuread: {cloud: AzurePublic}"),
		y("remote_write:", "  - url: http://a/", "    queue_config: {max_shards: -1}"),
		y("remote_write:", "  - url: ftp://a/"),
		y("remote_write:", "  - url: http://a/", "    unknown: 1"),
		"\"a\\nb\": 1\n",
		"remote_write: &a [*a]\n", // an alias inside its anchor: the walks recursed until the stack overflowed
		"remote_write:\n  - url: http://a/\n    headers: &h {X: *h}\n",
		aliasBomb,
		"remote_write:\n  - url: http://a/\n    headers:\n      \"X-\\nA\": b\n",
		"- 1\n- 2\n",
		"remote_write: 3\n",
		"external_labels: {\"bad name\": x}\n",
		"---\nremote_write: []\n---\nexternal_labels: {}\n",
		"\t\x00\xff",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := loadBytes("remote-write.yaml", data)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T is not an *Error: %v", err, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("error of more than one line: %q", msg)
		}
	})
}
