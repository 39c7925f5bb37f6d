package remotewrite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// benchPod is a Deployment pod as clusters have thousands of: two containers
// with requests and limits, a ReplicaSet owner, five labels, running and ready.
func benchPod(i int) *v1.Pod {
	res := v1.ResourceRequirements{
		Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("256Mi")},
	}
	ctrl := true
	created := metav1.Unix(1700000000, 0)
	running := v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: created}}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: fmt.Sprintf("team-%d", i%20), Name: fmt.Sprintf("web-%d-7d4b9c8f6d-%05d", i%50, i),
			UID:               types.UID(fmt.Sprintf("5f0c6a1e-2b7d-4c1e-9a57-%012d", i)),
			CreationTimestamp: created,
			Labels:            map[string]string{"app": "web", "tier": "fe", "team": "a", "env": "prod", "version": "v1"},
			OwnerReferences:   []metav1.OwnerReference{{Kind: "ReplicaSet", Name: fmt.Sprintf("web-%d-7d4b9c8f6d", i%50), Controller: &ctrl}},
		},
		Spec: v1.PodSpec{
			NodeName: fmt.Sprintf("node-%d", i%50), ServiceAccountName: "default", SchedulerName: "default-scheduler",
			RestartPolicy: v1.RestartPolicyAlways,
			Containers: []v1.Container{
				{Name: "app", Image: "registry.example/app:1.4.2", Resources: res},
				{Name: "proxy", Image: "registry.example/proxy:2.0", Resources: res},
			},
		},
		Status: v1.PodStatus{
			Phase: v1.PodRunning, QOSClass: v1.PodQOSBurstable, StartTime: &created,
			HostIP: fmt.Sprintf("192.168.0.%d", i%50), PodIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			Conditions: []v1.PodCondition{
				{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: created},
				{Type: v1.PodScheduled, Status: v1.ConditionTrue, LastTransitionTime: created},
				{Type: v1.PodInitialized, Status: v1.ConditionTrue, LastTransitionTime: created},
				{Type: v1.ContainersReady, Status: v1.ConditionTrue, LastTransitionTime: created},
			},
			ContainerStatuses: []v1.ContainerStatus{
				{Name: "app", Ready: true, State: running, Image: "registry.example/app:1.4.2",
					ImageID: "registry.example/app@sha256:9b7c0e4f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7", ContainerID: fmt.Sprintf("containerd://%064d", 2*i)},
				{Name: "proxy", Ready: true, State: running, Image: "registry.example/proxy:2.0",
					ImageID: "registry.example/proxy@sha256:0a7c0e4f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7", ContainerID: fmt.Sprintf("containerd://%064d", 2*i+1)},
			},
		},
	}
}

// podWorkload returns the series of pods realistic pods, as the collectors
// generate them, one sample each (a full resend; the restart counters with
// their start timestamp), and the pod families' metadata.
func podWorkload(b *testing.B, pods int) ([]series.Sample, MetadataFunc) {
	b.Helper()
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		b.Fatal(err)
	}
	gen := rs[0].NewGenerator(collectors.Options{})
	fams := map[string]collectors.FamilyInfo{}
	for _, f := range rs[0].Families() {
		fams[f.Name] = f
	}
	var ss []series.Sample
	t := time.Now().UnixMilli()
	for i := range pods {
		o, ok := gen.Generate(benchPod(i))
		if !ok {
			b.Fatal("pod not generated")
		}
		for _, s := range o.Series {
			var st int64 // counters carry their start timestamp, as the snapshot gives it
			if fams[s.Labels.Name()].Type == collectors.Counter {
				st = o.Start
			}
			ss = append(ss, series.Sample{Labels: s.Labels, T: t, V: s.Value, ST: st})
		}
	}
	md := func(name string) (typ, help, unit string, ok bool) {
		f, ok := fams[name]
		return string(f.Type), f.Help, "", ok
	}
	return ss, md
}

// BenchmarkEncodePods encodes the series of 1000 pods, as requests of
// MaxSamplesPerSend samples, in 1.0 and 2.0: bytes on the wire per sample
// (snappy-compressed body; the protobuf before compression too) and samples/s
// through encode + compress on one core.
func BenchmarkEncodePods(b *testing.B) {
	ss, md := podWorkload(b, 1000)
	per := DefaultQueueConfig.MaxSamplesPerSend
	e1, e2 := newEncoder(nil), newEncoderV2(md, nil)
	for _, c := range []struct {
		name   string
		encode func([]series.Sample) ([]byte, error)
		pb     func() int
	}{
		{"v1", e1.encode, func() int { return len(e1.pb) }},
		{"v2", e2.encode, func() int { return len(e2.pb) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var wire, raw int
			for b.Loop() {
				wire, raw = 0, 0
				for i := 0; i < len(ss); i += per {
					out, err := c.encode(ss[i:min(i+per, len(ss))])
					if err != nil {
						b.Fatal(err)
					}
					wire += len(out)
					raw += c.pb()
				}
			}
			b.ReportMetric(float64(len(ss))/1000, "series/pod")
			b.ReportMetric(float64(wire)/float64(len(ss)), "wire-bytes/sample")
			b.ReportMetric(float64(raw)/float64(len(ss)), "protobuf-bytes/sample")
			b.ReportMetric(float64(len(ss))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// agentLabelLimits are the agent's default label limits
// (rwconfig.DefaultLabelLimits), which every sample is checked against.
var agentLabelLimits = LabelLimits{MaxLabelNamesPerSeries: 30, MaxLabelNameLength: 256, MaxLabelValueLength: 2048}

// BenchmarkQueuePods sends the series of 1000 pods through a one-shard queue
// to a local receiver that reads and discards the bodies: samples/s through
// the label limits' check + encode + compress + HTTP on one sending goroutine.
func BenchmarkQueuePods(b *testing.B) {
	ss, md := podWorkload(b, 1000)
	// Whole requests only, so that the receiver can confirm each as written
	// without decoding it.
	per := DefaultQueueConfig.MaxSamplesPerSend
	ss = ss[:len(ss)/per*per]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set(headerSamplesWritten, strconv.Itoa(per))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ext := []series.Label{{Name: "cluster", Value: "prod-eu-1"}, {Name: "region", Value: "eu-west-1"}}
	for _, c := range []struct {
		name     string
		msg      ProtobufMessage
		external []series.Label
	}{
		{string(MessageV1), MessageV1, nil},
		{string(MessageV2), MessageV2, nil},
		{string(MessageV1) + "/external-labels", MessageV1, ext},
		{string(MessageV2) + "/external-labels", MessageV2, ext},
	} {
		msg := c.msg
		b.Run(c.name, func(b *testing.B) {
			q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: msg, Metadata: md, MetadataSendInterval: -1,
				External: c.external, LabelLimits: agentLabelLimits}, NewClient(srv.URL, "bench", 10*time.Second, nil), nil, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = q.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			b.ReportAllocs()
			for b.Loop() {
				if err := q.WriteBatch(ctx, ss); err != nil {
					b.Fatal(err)
				}
				if err := q.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if q.ProtobufMessage() != msg {
				b.Fatalf("fell back to %s", q.ProtobufMessage())
			}
			b.ReportMetric(float64(len(ss))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
