package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// docs/benchmarks.json keeps what every size measured, each from its own
// run, with the machine, the versions and the date: a run at some sizes
// replaces those and keeps the others. docs/benchmarks.md and its plot are
// written from it.

// sizeRecord is one size's figures, in the units of the report.
type sizeRecord struct {
	N        int       `json:"n"`
	Pods     int       `json:"pods"`
	Nodes    int       `json:"nodes"`
	Run      time.Time `json:"run"`
	Machine  string    `json:"machine"`
	Versions string    `json:"versions"`
	Receiver string    `json:"receiver"` // receiverPrometheus or receiverSink
	Window   string    `json:"window"`   // each steady and churn window
	// CreatedS is how long creating the workload took until its pods ran,
	// 0 if not measured.
	CreatedS float64 `json:"workloadCreatedS,omitempty"`
	// Stopped is why the run stopped at this size; what was measured before
	// is kept.
	Stopped string `json:"stopped,omitempty"`
	// Note says where figures come from when not from a run of this code.
	Note string `json:"note,omitempty"`
	// PublishedRows, when set, are the table as a report published it before
	// these records were kept (measure, both sides, ratio): the report shows
	// them rather than ratios of the figures below, which are rounded.
	PublishedRows [][4]string `json:"publishedRows,omitempty"`

	KSP                 *sideRecord `json:"kubeStatePush,omitempty"`
	KSM                 *sideRecord `json:"ksmAgent,omitempty"`
	KSMAloneRSSMB       float64     `json:"ksmAloneRSSMB,omitempty"` // kube-state-metrics' share of the pipeline's steady RSS
	KSMAloneFileRSSMB   float64     `json:"ksmAloneFileRSSMB,omitempty"`
	KSPV1BytesPerSample float64     `json:"kspV1BytesPerSample,omitempty"` // kube-state-push with Remote-Write 1.0, steady
	FailedProbes        []string    `json:"failedProbes,omitempty"`
}

// sideRecord is one side's figures at one size.
type sideRecord struct {
	Series           float64 `json:"series"`
	SteadyRSSMB      float64 `json:"steadyRSSMB"`
	SteadyFileRSSMB  float64 `json:"steadyFileRSSMB"`
	PeakRSSMB        float64 `json:"peakRSSMB"`
	SyncS            float64 `json:"syncS"`
	SyncCPUS         float64 `json:"syncCPUS"`
	SteadyCPUMin     float64 `json:"steadyCPUPerMin"`
	ChurnCPUMin      float64 `json:"churnCPUPerMin"`
	SteadyMBMin      float64 `json:"steadyMBPerMin"`
	ChurnMBMin       float64 `json:"churnMBPerMin"`
	SteadySamplesMin float64 `json:"steadySamplesPerMin"`
	Changes          int     `json:"changes"`
	ChangeMedianS    float64 `json:"changeMedianS"`
	ChangeP99S       float64 `json:"changeP99S"`
	Deletes          int     `json:"deletes"`
	GoneMedianS      float64 `json:"goneMedianS"`
	GoneMaxS         float64 `json:"goneMaxS"`
	// The receiver's processes over the steady window (0: not measured).
	ReceiverCPUMin float64 `json:"receiverCPUPerMin,omitempty"`
	ReceiverRSSMB  float64 `json:"receiverRSSMB,omitempty"`
	// Sink is what the sink found in the side's requests (sink only).
	Sink *sinkStats `json:"sink,omitempty"`
}

func megabytes(b int64) float64 { return float64(b) / 1e6 }

// sideRecordOf converts what a side measured.
func sideRecordOf(s sideResult) *sideRecord {
	lat := func(ds []time.Duration, q float64) float64 { return percentile(ds, q).Seconds() }
	return &sideRecord{
		Series: s.series, SteadyRSSMB: megabytes(s.steadyRSS), SteadyFileRSSMB: megabytes(s.steadyFileRSS), PeakRSSMB: megabytes(s.peakRSS),
		SyncS: s.syncTime.Seconds(), SyncCPUS: s.syncCPU.Seconds(), SteadyCPUMin: s.steadyCPUMin, ChurnCPUMin: s.churnCPUMin,
		SteadyMBMin: s.steadyBytesMin / 1e6, ChurnMBMin: s.churnBytesMin / 1e6, SteadySamplesMin: s.steadySamplesMin,
		Changes: len(s.latencies), ChangeMedianS: lat(s.latencies, 0.5), ChangeP99S: lat(s.latencies, 0.99),
		Deletes: len(s.gone), GoneMedianS: lat(s.gone, 0.5), GoneMaxS: lat(s.gone, 1),
		ReceiverCPUMin: s.rxCPUMin, ReceiverRSSMB: megabytes(s.rxRSS), Sink: s.sink,
	}
}

// recordOf converts what a scale measured, with where and when.
func recordOf(r scaleResult, o options, machine, versions string) sizeRecord {
	rec := sizeRecord{N: r.n, Pods: r.pods, Nodes: r.nodes, Run: r.started.UTC().Truncate(time.Minute), Machine: machine,
		Versions: versions, Receiver: r.receiver, Window: o.window.String(), CreatedS: r.created.Round(time.Second).Seconds()}
	if r.err != nil {
		rec.Stopped = r.err.Error()
	}
	if r.kspDone {
		rec.KSP = sideRecordOf(r.ksp)
		rec.KSPV1BytesPerSample = perSample(r.kspV1BytesMin, r.kspV1SamplesMin)
	}
	if r.ksmDone {
		rec.KSM = sideRecordOf(r.ksm)
		rec.KSMAloneRSSMB, rec.KSMAloneFileRSSMB = megabytes(r.ksmAloneRSS), megabytes(r.ksmAloneFileRSS)
	}
	rec.FailedProbes = append(r.ksp.failed, r.ksm.failed...)
	return rec
}

// complete reports whether both sides were measured.
func (r sizeRecord) complete() bool { return r.Stopped == "" && r.KSP != nil && r.KSM != nil }

// benchRecords is the content of docs/benchmarks.json.
type benchRecords struct {
	Sizes []sizeRecord `json:"sizes"`
}

// loadRecords reads path; a missing file is no records.
func loadRecords(path string) (benchRecords, error) {
	var rs benchRecords
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return rs, nil
	}
	if err != nil {
		return rs, err
	}
	if err := json.Unmarshal(b, &rs); err != nil {
		return rs, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

func (rs benchRecords) save(path string) error {
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// merge puts rec in place of the record of its size. A run that stopped
// replaces only a record that is not complete: a complete one stays, and so
// merge reports false.
func (rs *benchRecords) merge(rec sizeRecord) bool {
	i := slices.IndexFunc(rs.Sizes, func(x sizeRecord) bool { return x.N == rec.N })
	switch {
	case i < 0:
		rs.Sizes = append(rs.Sizes, rec)
	case rec.Stopped != "" && rs.Sizes[i].complete():
		return false
	default:
		rs.Sizes[i] = rec
	}
	slices.SortFunc(rs.Sizes, func(a, b sizeRecord) int { return a.N - b.N })
	return true
}

// versionsLine names what a run measured with.
func versionsLine(root string) string {
	ksp := "unknown"
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		ksp = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("kube-state-push %s, Kubernetes %s, kube-state-metrics %s, Prometheus 3.16 (%s), %s",
		ksp, k8sVersion, ksmVersion, prometheusVersion, runtime.Version())
}

// recordsPath is the JSON kept beside the markdown report, and plotPath its plot.
func recordsPath(out string) string { return strings.TrimSuffix(out, ".md") + ".json" }

func plotPath(out string) string { return strings.TrimSuffix(out, ".md") + ".png" }
