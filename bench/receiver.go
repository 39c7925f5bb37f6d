package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The receiver both sides of a size write to: the cluster's Prometheus, which
// the probes query (change → queryable), or the sink (sink.go), which says
// when it received a change (change → delivered) and holds no series.

// Receiver names of -receiver.
const (
	receiverAuto       = "auto"
	receiverPrometheus = "prometheus"
	receiverSink       = "sink"
)

// sinkFrom is the smallest size -receiver auto writes to the sink: from there
// on Prometheus holds more than a million series per side.
const sinkFrom = 20000

// checkReceiver checks -receiver.
func checkReceiver(name string) error {
	switch name {
	case receiverAuto, receiverPrometheus, receiverSink:
		return nil
	}
	return fmt.Errorf("-receiver %q: want auto, prometheus or sink", name)
}

// receiverKind is the receiver a size of n pods writes to.
func receiverKind(flag string, n int) string {
	if flag != receiverAuto {
		return flag
	}
	if n >= sinkFrom {
		return receiverSink
	}
	return receiverPrometheus
}

// receiver is where the sides of a size write, and how the bench learns what
// it got. A side's sender name is its side name.
type receiver interface {
	kind() string
	writeURL(sender string) string
	// adopt makes s count bytes and samples as the receiver got them, or
	// leaves the side's own counters.
	adopt(s *side)
	// kubeSeries is how many kube_* series of the side the receiver holds.
	kubeSeries(ctx context.Context, s *side) (float64, error)
	// checks returns what the sink found in the side's requests (nil for
	// Prometheus), and forget drops what it keeps of the side.
	checks(ctx context.Context, s *side) (*sinkStats, error)
	forget(s *side)
	// procs are the receiver's processes, measured alongside each window.
	procs() []pidProc
	// expect registers conditions before the writes that meet them (the
	// sink's watches); await waits until cond holds and returns when it
	// was received (the sink) or first seen (Prometheus's queries).
	expect(ctx context.Context, s *side, conds map[string]probeCond) error
	await(ctx context.Context, s *side, id string, cond probeCond) (time.Time, error)
}

// promReceiver is the cluster's Prometheus.
type promReceiver struct {
	url      string
	stateDir string // the cluster's, whose pids/prometheus.pid it reads
}

func (p *promReceiver) kind() string           { return receiverPrometheus }
func (p *promReceiver) writeURL(string) string { return p.url + "/api/v1/write" }
func (p *promReceiver) adopt(*side)            {}
func (p *promReceiver) forget(*side)           {}

func (p *promReceiver) kubeSeries(ctx context.Context, s *side) (float64, error) {
	return scalar(ctx, p.url, fmt.Sprintf(`count({bench=%q,__name__=~"kube_.+"})`, s.label))
}

func (p *promReceiver) checks(context.Context, *side) (*sinkStats, error) { return nil, nil }

func (p *promReceiver) procs() []pidProc {
	b, err := os.ReadFile(filepath.Join(p.stateDir, "pids", "prometheus.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	return []pidProc{{name: "prometheus", pid: pid}}
}

func (p *promReceiver) expect(context.Context, *side, map[string]probeCond) error { return nil }

func (p *promReceiver) await(ctx context.Context, s *side, _ string, cond probeCond) (time.Time, error) {
	q := cond.promQL(s.label)
	err := poll(ctx, 100*time.Millisecond, probeWait, func() (bool, error) {
		vs, err := query(ctx, p.url, q)
		if cond.gone {
			return err == nil && len(vs) == 0, err
		}
		return len(vs) > 0, err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", q, err)
	}
	return time.Now(), nil
}

// sinkReceiver is the sink process the bench started.
type sinkReceiver struct {
	client *sinkClient
	proc   *proc
}

// startSink starts the sink (this program with -serve-sink) and waits until
// it answers.
func (b *bench) startSink(ctx context.Context) (*sinkReceiver, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := startProc("sink", b.logPath("sink"), exe, "-serve-sink", addr)
	if err != nil {
		return nil, err
	}
	c := &sinkClient{url: "http://" + addr}
	err = poll(ctx, 100*time.Millisecond, 30*time.Second, func() (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		_, err := c.all(ctx)
		return err == nil, nil
	})
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("sink: %w", err)
	}
	b.log.Info("Sink receiver started", "url", c.url, "pid", p.cmd.Process.Pid)
	return &sinkReceiver{client: c, proc: p}, nil
}

func (r *sinkReceiver) kind() string                  { return receiverSink }
func (r *sinkReceiver) writeURL(sender string) string { return r.client.writeURL(sender) }

func (r *sinkReceiver) adopt(s *side) {
	s.bytesSent = func(ctx context.Context) (float64, error) {
		st, err := r.client.stats(ctx, s.name)
		return float64(st.Bytes), err
	}
	s.samplesSent = func(ctx context.Context) (float64, error) {
		st, err := r.client.stats(ctx, s.name)
		return float64(st.Samples), err
	}
}

func (r *sinkReceiver) kubeSeries(ctx context.Context, s *side) (float64, error) {
	st, err := r.client.stats(ctx, s.name)
	return float64(st.LiveKube), err
}

func (r *sinkReceiver) checks(ctx context.Context, s *side) (*sinkStats, error) {
	st, err := r.client.stats(ctx, s.name)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func (r *sinkReceiver) forget(s *side) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.client.forget(ctx, s.name)
}

func (r *sinkReceiver) procs() []pidProc {
	return []pidProc{{name: "sink", pid: r.proc.cmd.Process.Pid}}
}

func (r *sinkReceiver) expect(ctx context.Context, s *side, conds map[string]probeCond) error {
	ws := make([]*sinkWatch, 0, len(conds))
	for id, c := range conds {
		ws = append(ws, c.watch(id, s.label))
	}
	return r.client.watch(ctx, s.name, ws)
}

func (r *sinkReceiver) await(ctx context.Context, s *side, id string, _ probeCond) (time.Time, error) {
	var at int64
	err := poll(ctx, 100*time.Millisecond, probeWait, func() (bool, error) {
		d, err := r.client.delivered(ctx, s.name)
		at = d[id]
		return at != 0, err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("watch %s: %w", id, err)
	}
	return time.Unix(0, at), nil
}

func (r *sinkReceiver) stop() { r.proc.stop() }

// receiverFor returns the receiver of a size of n pods. The first size on
// the sink starts it and stops the cluster's Prometheus, whose memory the
// apiserver and the agents then have.
func (b *bench) receiverFor(ctx context.Context, n int) (receiver, error) {
	prom := &promReceiver{url: b.promURL, stateDir: filepath.Join(b.opts.stateDir, "cluster")}
	if receiverKind(b.opts.receiver, n) == receiverPrometheus {
		return prom, nil
	}
	if b.sink != nil {
		return b.sink, nil
	}
	s, err := b.startSink(ctx)
	if err != nil {
		return nil, err
	}
	b.sink = s
	stop := exec.CommandContext(ctx, b.cluster, "stop-receiver", prom.stateDir)
	stop.Stderr = os.Stderr
	if err := stop.Run(); err != nil {
		return nil, fmt.Errorf("stop the cluster's Prometheus: %w", err)
	}
	return s, nil
}
