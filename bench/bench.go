package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	k8sVersion        = "v1.37.2"
	ksmVersion        = "v2.20.0"
	prometheusVersion = "v0.316.0" // Prometheus 3.16, as a Go module version
	scrapeInterval    = 30 * time.Second
	settle            = 30 * time.Second
)

type bench struct {
	opts    options
	log     *slog.Logger
	started time.Time

	cacheBin  string
	agentBin  string
	cluster   string // hack/cluster.sh
	clusterUp bool
	promURL   string
	kubecfg   string
	client    kubernetes.Interface
	running   group         // processes of the side being measured
	rx        receiver      // where the sides of the current scale write
	sink      *sinkReceiver // the sink, once a scale writes to it
	rxDir     string        // state dir of the receiver hack/receivers.sh runs, or ""
	plan      plan          // the workload at the current scale
	churnStep int           // where churn goes on
}

func (b *bench) setup(ctx context.Context) error {
	b.started = time.Now()
	cache := os.Getenv("KSP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return err
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "kube-state-push")
	}
	b.cacheBin = filepath.Join(cache, "bin")
	need := []string{"kube-state-metrics-" + ksmVersion, "prometheus-" + prometheusVersion}
	if b.opts.receivers {
		need = need[1:] // the cluster's Prometheus; hack/receivers.sh names what it misses
	}
	for _, name := range need {
		if _, err := os.Stat(filepath.Join(b.cacheBin, name)); err != nil {
			return fmt.Errorf("%s not built: run make components (hack/build-components.sh)", name)
		}
	}
	if err := os.RemoveAll(b.opts.stateDir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(b.opts.stateDir, "logs"), 0o755); err != nil {
		return err
	}
	b.agentBin = filepath.Join(b.opts.stateDir, "kube-state-push")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", b.agentBin, "./cmd/kube-state-push")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Dir, build.Stderr = b.opts.root, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build kube-state-push: %w", err)
	}

	b.cluster = filepath.Join(b.opts.root, "hack", "cluster.sh")
	state := filepath.Join(b.opts.stateDir, "cluster")
	perNode := b.opts.scales[len(b.opts.scales)-1]/b.opts.nodes + 20
	if b.opts.crs {
		perNode = 110 // the objects are custom ones, not pods
	}
	b.log.Info("Starting the cluster", "nodes", b.opts.nodes, "podsPerNode", perNode)
	up := exec.CommandContext(ctx, b.cluster, "up", state)
	up.Env = append(os.Environ(), fmt.Sprintf("KSP_NODES=%d", b.opts.nodes), fmt.Sprintf("KSP_NODE_PODS=%d", perNode))
	up.Env = append(up.Env, fastCluster...)
	up.Stderr = os.Stderr
	b.clusterUp = true // down is safe after a half-done up
	if err := up.Run(); err != nil {
		return fmt.Errorf("cluster up: %w", err)
	}
	env, err := os.ReadFile(filepath.Join(state, "env"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(env), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "KUBECONFIG":
			b.kubecfg = v
		case "PROMETHEUS_URL":
			b.promURL = v
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", b.kubecfg)
	if err != nil {
		return err
	}
	// High enough that the workload is created as fast as the apiserver
	// takes it; protobuf, which costs the apiserver less than JSON.
	rc.QPS, rc.Burst = 2000, 4000
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	b.client, err = kubernetes.NewForConfig(rc)
	return err
}

func (b *bench) cleanup() {
	b.running.stop()
	if b.sink != nil {
		b.sink.stop()
	}
	b.receiverDown()
	if b.clusterUp {
		down := exec.Command(b.cluster, "down", filepath.Join(b.opts.stateDir, "cluster"))
		if b.opts.keep {
			down.Env = append(os.Environ(), "KSP_KEEP_STATE=1")
		}
		down.Stderr = os.Stderr
		if err := down.Run(); err != nil {
			b.log.Error("Cluster down failed", "err", err)
		}
	}
	if !b.opts.keep {
		_ = os.RemoveAll(b.opts.stateDir)
	}
}

// fastCluster is the environment of hack/cluster.sh that makes the
// controllers, the scheduler and kwok take a large workload as fast as the
// apiserver can: their client QPS, controller workers and kwok's parallel
// pod stages.
var fastCluster = []string{"KSP_CONTROLLER_QPS=1000", "KSP_CONTROLLER_SYNCS=20", "KSP_KWOK_PARALLELISM=32"}

// scaleResult is what one scale measured on both sides.
type scaleResult struct {
	n, pods, nodes   int
	receiver         string // receiverPrometheus or receiverSink
	started          time.Time
	created          time.Duration // creating the workload until its pods ran
	kspDone, ksmDone bool          // which sides were measured
	err              error         // why the scale stopped, if it did
	ksp, ksm         sideResult
	kspV1BytesMin    float64 // Remote-Write 1.0 bytes per minute, steady, same series
	kspV1SamplesMin  float64
	ksmAloneRSS      int64 // kube-state-metrics' own share of the pipeline's steady RSS
	ksmAloneFileRSS  int64 // its file-backed part
}

// prepareScale creates the workload of about n pods (what an earlier, smaller
// scale created stays) and waits until its pods run.
func (b *bench) prepareScale(ctx context.Context, n int) (plan, error) {
	p := planFor(n, b.opts.nodes)
	b.plan = p
	b.log.Info("Creating the workload", "pods", p.pods(), "deployments", p.deployments, "statefulsets", p.statefulsets, "jobs", p.jobs)
	t0 := time.Now()
	if err := ensureWorkload(ctx, b.client, p); err != nil {
		return p, fmt.Errorf("create workload: %w", err)
	}
	b.log.Info("Workload created", "after", time.Since(t0).Round(time.Second))
	if err := waitPods(ctx, b.client, p.pods()*98/100, 20*time.Minute, func(n int) {
		b.log.Info("Pods running", "pods", n, "want", p.pods(), "after", time.Since(t0).Round(time.Second))
	}); err != nil {
		return p, fmt.Errorf("pods not running: %w", err)
	}
	return p, nil
}

func (b *bench) measureScale(ctx context.Context, n int) (scaleResult, error) {
	t0 := time.Now()
	p, err := b.prepareScale(ctx, n)
	r := scaleResult{n: n, pods: p.pods(), nodes: b.opts.nodes, started: t0, created: time.Since(t0), receiver: receiverKind(b.opts.receiver, n)}
	if err != nil {
		return r, err
	}

	if b.rx, err = b.receiverFor(ctx, n); err != nil {
		return r, err
	}
	r.receiver = b.rx.kind()
	tag := fmt.Sprint(n)
	if r.ksp, err = b.measureSide(ctx, b.kspSide(tag, "ksp", "io.prometheus.write.v2.Request", b.rx.writeURL("ksp-"+tag)), 0); err != nil {
		return r, fmt.Errorf("kube-state-push: %w", err)
	}
	r.kspDone = true
	if b.opts.kspOnly {
		return r, nil
	}
	if r.kspV1BytesMin, r.kspV1SamplesMin, err = b.measureBytesOnly(ctx, b.kspSide(tag, "ksp-v1", "prometheus.WriteRequest", b.rx.writeURL("ksp-v1-"+tag))); err != nil {
		return r, fmt.Errorf("kube-state-push, Remote-Write 1.0: %w", err)
	}
	ksm := b.ksmSide(tag, b.rx.writeURL("ksm-"+tag))
	if r.ksm, err = b.measureSide(ctx, ksm, r.ksp.series); err != nil {
		return r, fmt.Errorf("kube-state-metrics + agent: %w", err)
	}
	r.ksmDone = true
	r.ksmAloneRSS, r.ksmAloneFileRSS = ksm.aloneRSS, ksm.aloneFileRSS
	return r, nil
}

// runHold creates the workload of the largest scale, says where the
// cluster's env file is, and waits until interrupted: the cluster then stops
// as after a measurement.
func (b *bench) runHold(ctx context.Context) error {
	n := b.opts.scales[len(b.opts.scales)-1]
	if _, err := b.prepareScale(ctx, n); err != nil {
		return err
	}
	b.log.Info("Cluster and workload up; Ctrl-C stops them", "pods", n, "env", filepath.Join(b.opts.stateDir, "cluster", "env"))
	<-ctx.Done()
	return nil
}
