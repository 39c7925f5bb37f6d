package main

import (
	"testing"
)

func TestReceiverFlag(t *testing.T) {
	o, err := parseFlags([]string{"-n", "1000,50000"})
	if err != nil || o.receiver != receiverAuto {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	if got := []string{receiverKind(o.receiver, 1000), receiverKind(o.receiver, 50000)}; got[0] != receiverPrometheus || got[1] != receiverSink {
		t.Errorf("auto: %v", got)
	}
	if o, err := parseFlags([]string{"-receiver", "sink"}); err != nil || receiverKind(o.receiver, 1000) != receiverSink {
		t.Errorf("-receiver sink: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"-receiver", "mimir"}); err == nil {
		t.Error("-receiver mimir accepted")
	} else if _, ok := err.(usageError); !ok {
		t.Errorf("-receiver mimir: %T, not a usage error", err)
	}
	if o, err := parseFlags([]string{"-serve-sink", "127.0.0.1:0"}); err != nil || o.serveSink != "127.0.0.1:0" {
		t.Errorf("-serve-sink: %+v, %v", o, err)
	}
}

func TestProbeCond(t *testing.T) {
	c := probeCond{metric: "kube_pod_status_phase", labels: map[string]string{"pod": "p", "phase": "Running"}, value: 1}
	if got, want := c.promQL("ksm"), `kube_pod_status_phase{namespace="bench-probes",bench="ksm",phase="Running",pod="p"} == 1`; got != want {
		t.Errorf("promQL = %s, want %s", got, want)
	}
	w := c.watch("id", "ksm")
	if w.Name != c.metric || w.Value == nil || *w.Value != 1 || w.Stale || w.Labels["bench"] != "ksm" || w.Labels["pod"] != "p" || w.Labels["namespace"] != probeNS {
		t.Errorf("watch = %+v", w)
	}
	if w.matches(0) || !w.matches(1) || w.matches(staleMarker) {
		t.Error("value watch matches wrongly")
	}
	g := probeCond{metric: "kube_pod_info", labels: map[string]string{"pod": "p"}, gone: true}
	if got, want := g.promQL("ksp"), `kube_pod_info{namespace="bench-probes",bench="ksp",pod="p"}`; got != want {
		t.Errorf("promQL = %s, want %s", got, want)
	}
	if w := g.watch("id", "ksp"); !w.Stale || w.Value != nil || w.matches(1) || !w.matches(staleMarker) {
		t.Errorf("gone watch = %+v", w)
	}
}
