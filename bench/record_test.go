package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleRecord(n int, rx string) sizeRecord {
	side := func(rss, cpu float64) *sideRecord {
		return &sideRecord{Series: float64(n * 57), SteadyRSSMB: rss, PeakRSSMB: rss * 1.2, SteadyCPUMin: cpu, SteadyMBMin: 1.5,
			SteadySamplesMin: 100000, Changes: 20, ChangeMedianS: 0.1, ChangeP99S: 0.2, Deletes: 5, GoneMedianS: 0.1, GoneMaxS: 0.3}
	}
	return sizeRecord{N: n, Pods: n, Nodes: 50, Run: time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC), Machine: "m", Versions: "v",
		Receiver: rx, Window: "1m0s", KSP: side(float64(n)/100, 1), KSM: side(float64(n)/10, 3)}
}

func TestRecordsMerge(t *testing.T) {
	var rs benchRecords
	rs.merge(sampleRecord(10000, receiverPrometheus))
	rs.merge(sampleRecord(1000, receiverPrometheus))
	if len(rs.Sizes) != 2 || rs.Sizes[0].N != 1000 {
		t.Fatalf("sizes %+v", rs.Sizes)
	}
	newer := sampleRecord(1000, receiverSink)
	if !rs.merge(newer) || rs.Sizes[0].Receiver != receiverSink {
		t.Errorf("a new record did not replace the old one: %+v", rs.Sizes[0])
	}
	stopped := sizeRecord{N: 1000, Stopped: "interrupted"}
	if rs.merge(stopped) || rs.Sizes[0].Stopped != "" {
		t.Errorf("a stopped run replaced a complete record")
	}
	if !rs.merge(sizeRecord{N: 50000, Stopped: "interrupted", KSP: newer.KSP}) || len(rs.Sizes) != 3 {
		t.Errorf("a stopped run of a new size was not kept")
	}
}

func TestRecordOf(t *testing.T) {
	r := scaleResult{n: 1000, pods: 992, nodes: 50, receiver: receiverSink, kspDone: true, err: errors.New("scale N=1000: boom"),
		ksp: sideResult{steadyRSS: 66e6, latencies: []time.Duration{time.Second, 2 * time.Second}}, created: 90 * time.Second}
	rec := recordOf(r, options{window: time.Minute}, "m", "v")
	if rec.KSP == nil || rec.KSM != nil || rec.KSP.SteadyRSSMB != 66 || rec.KSP.Changes != 2 || rec.KSP.ChangeP99S != 2 ||
		rec.Stopped != "scale N=1000: boom" || rec.CreatedS != 90 || rec.complete() {
		t.Errorf("record %+v, ksp %+v", rec, rec.KSP)
	}
}

func TestReportFromRecords(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "benchmarks.md")
	rs := benchRecords{}
	rs.merge(sampleRecord(1000, receiverPrometheus))
	sink := sampleRecord(50000, receiverSink)
	sink.KSP.Sink, sink.KSM.Sink = &sinkStats{Requests: 10, OutOfOrder: 0, Stale: 3}, &sinkStats{Requests: 20, Stale: 7}
	sink.KSP.ReceiverCPUMin, sink.KSM.ReceiverCPUMin = 0.5, 1.5
	rs.merge(sink)
	if err := rs.save(recordsPath(out)); err != nil {
		t.Fatal(err)
	}
	b := &bench{opts: options{out: out}, log: discardLogger()}
	if err := b.writeReport(nil); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## N = 1000 pods", "## N = 50000 pods", "change → queryable, median s", "change → delivered, median s",
		"delete → staleness marker delivered", "| sink: staleness markers | 3 | 7 |", "receiver (sink) CPU-s per minute, steady | 0.50 | 1.50 | 0.333",
		"![RSS and CPU against pods, both sides](benchmarks.png)"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(string(doc[:strings.Index(string(doc), "## N = 50000")]), "sink: ") {
		t.Error("the Prometheus size has sink rows")
	}
	png, err := os.ReadFile(plotPath(out))
	if err != nil || len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Errorf("plot: %d bytes, %v", len(png), err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
