package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = "# TYPE kube_pod_info gauge\nkube_pod_info{pod=\"a\",node=\"\"} 1\n"

// servers starts a fake KSM and a fake Prometheus that answers with value v
// for kube_pod_info{pod="a"}.
func servers(t *testing.T, v string) (ksmURL, promURL string) {
	t.Helper()
	ksm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, exposition) }))
	t.Cleanup(ksm.Close)
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[`+
			`{"metric":{"__name__":"kube_pod_info","pod":"a"},"value":[1,%q]}]}}`, v)
	}))
	t.Cleanup(prom.Close)
	return ksm.URL, prom.URL
}

func TestExitCodes(t *testing.T) {
	ksmOK, promOK := servers(t, "1")
	ksmBad, promBad := servers(t, "2")
	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"parity", []string{"--ksm-url", ksmOK, "--prometheus-url", promOK}, 0, "parity 100.00%"},
		{"difference", []string{"--ksm-url", ksmBad, "--prometheus-url", promBad, "--tries", "2", "--interval", "1ms"}, 1,
			`differing kube_pod_info{pod="a"} ksm=1 prometheus=2`},
		{"text parity", []string{"--ksm-url", ksmOK, "--metrics-url", ksmOK}, 0, "text parity 100.00%: 1 of 1 KSM lines"},
		{"text difference", []string{"--ksm-url", ksmOK, "--metrics-url", promOK, "--tries", "1"}, 1, "text parity 0.00%"},
		{"text unreachable", []string{"--ksm-url", ksmOK, "--metrics-url", "http://127.0.0.1:1/metrics", "--tries", "1"}, 2, "scrape"},
		{"unreachable", []string{"--ksm-url", "http://127.0.0.1:1/metrics", "--tries", "1"}, 2, "scrape"},
		{"bad flag", []string{"--tries", "0"}, 2, "--tries"},
		{"argument", []string{"extra"}, 2, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			if code := run(context.Background(), c.args, &out, &out); code != c.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, c.code, out.String())
			}
			if !strings.Contains(out.String(), c.out) {
				t.Errorf("output lacks %q:\n%s", c.out, out.String())
			}
		})
	}
}
