package remotewrite

import (
	"cmp"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/golang/snappy"

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
	return workload(b, pods, benchPod)
}

// randomIDsWorkload is podWorkload with the names and ids of a real
// cluster's pods, random (see randomIDs), the same on every call.
func randomIDsWorkload(b testing.TB, pods int) ([]series.Sample, MetadataFunc) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	hashes := make([]string, 50)
	for i := range hashes {
		hashes[i] = randomString(r, 10, podNameChars)
	}
	return workload(b, pods, func(i int) *v1.Pod {
		p := benchPod(i)
		randomIDs(p, r, hashes[i%len(hashes)])
		return p
	})
}

// podNameChars are the characters of the random parts of a Deployment
// pod's name (apimachinery's rand.String).
const podNameChars = "bcdfghjklmnpqrstvwxz2456789"

// randomIDs gives the pod p of benchPod random ids, as a real cluster's pods
// have: its ReplicaSet's name ends in hash (random per Deployment), its own
// name in five random characters, and its uid and container ids are random.
func randomIDs(p *v1.Pod, r *rand.Rand, hash string) {
	const hex = "0123456789abcdef"
	rs := p.OwnerReferences[0].Name[:strings.LastIndexByte(p.OwnerReferences[0].Name, '-')+1] + hash
	p.OwnerReferences[0].Name = rs
	p.Name = rs + "-" + randomString(r, 5, podNameChars)
	p.UID = types.UID(randomString(r, 8, hex) + "-" + randomString(r, 4, hex) + "-" + randomString(r, 4, hex) + "-" +
		randomString(r, 4, hex) + "-" + randomString(r, 12, hex))
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].ContainerID = "containerd://" + randomString(r, 64, hex)
	}
}

func randomString(r *rand.Rand, n int, chars string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// workload returns the series of the pods pod(0) to pod(pods-1), one sample
// each, and the pod families' metadata.
func workload(b testing.TB, pods int, pod func(int) *v1.Pod) ([]series.Sample, MetadataFunc) {
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
		o, ok := gen.Generate(pod(i))
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

// shardSamples splits ss as a queue of shards shards does: every series to a
// shard by a hash of its labels (as Queue.shardOf, but the same on every
// run), each shard's samples in order.
func shardSamples(ss []series.Sample, shards int) [][]series.Sample {
	by := make([][]series.Sample, shards)
	for _, s := range ss {
		i := crc32.ChecksumIEEE([]byte(s.Labels.String())) % uint32(shards)
		by[i] = append(by[i], s)
	}
	return by
}

// encodeVariant is a way to encode requests: the message, the samples per
// request and the snappy block encoder.
type encodeVariant struct {
	name        string
	v1          bool
	per         int                          // samples per request; 0: MaxSamplesPerSend
	blockEncode func(dst, src []byte) []byte // nil: the encoder's
}

// encoder returns the variant's encode function and samples per request.
func (v encodeVariant) encoder(md MetadataFunc) (func([]series.Sample) ([]byte, error), int) {
	per := cmp.Or(v.per, DefaultQueueConfig.MaxSamplesPerSend)
	if v.v1 {
		e := newEncoder(nil)
		if v.blockEncode != nil {
			e.blockEncode = v.blockEncode
		}
		return e.encode, per
	}
	e := newEncoderV2(md, nil)
	if v.blockEncode != nil {
		e.blockEncode = v.blockEncode
	}
	return e.encode, per
}

// encodeTurn encodes ss in requests of per samples and returns the CPU time
// of the calling thread this took and the bytes of the requests.
func encodeTurn(b *testing.B, encode func([]series.Sample) ([]byte, error), ss []series.Sample, per int) (int64, int) {
	t, bytes := threadCPUTime(b), 0
	for i := 0; i < len(ss); i += per {
		out, err := encode(ss[i:min(i+per, len(ss))])
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(out)
	}
	return threadCPUTime(b) - t, bytes
}

func turnCPU(cpu int64, _ int) int64 { return cpu }

// BenchmarkEncodeBacklog encodes a full resend of 1000 pods with random names
// and ids (randomIDsWorkload) as a queue of 2 (the default minimum) or 4
// shards sends it with a backlog: each shard's samples cut into requests of
// MaxSamplesPerSend samples (1.0), or of 4 times that (2.0, see
// Queue.samplesPerSend). It reports the wire bytes (the compressed body) and
// the CPU time of encode + compress per sample, for 1.0, 2.0 as sent, and 2.0
// without the larger requests (x1) or with snappy.Encode; and that CPU time
// over 2.0's, the two encoding each shard's samples in turns of 8,000, on
// one thread: the ratio holds on a shared machine where the times alone do
// not.
func BenchmarkEncodeBacklog(b *testing.B) {
	ss, md := randomIDsWorkload(b, 1000)
	per := DefaultQueueConfig.MaxSamplesPerSend
	variants := []encodeVariant{
		{name: "v2", per: 4 * per},
		{name: "v1", v1: true},
		{name: "v2-x1"},
		{name: "v2-snappy", per: 4 * per, blockEncode: snappy.Encode},
		{name: "v2-x1-snappy", blockEncode: snappy.Encode},
	}
	for _, shards := range []int{2, 4} {
		by := shardSamples(ss, shards)
		for _, v := range variants {
			b.Run(fmt.Sprintf("shards=%d/enc=%s", shards, v.name), func(b *testing.B) {
				encode, per := v.encoder(md)
				base, basePer := variants[0].encoder(md)
				// Each side encodes turn samples in requests of its
				// size, and the sides take turns first.
				turn := 4 * DefaultQueueConfig.MaxSamplesPerSend
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var wire int
				var cpu, baseCPU int64
				k := 0
				for b.Loop() {
					wire = 0
					for _, sh := range by {
						for i := 0; i < len(sh); i += turn {
							chunk := sh[i:min(i+turn, len(sh))]
							if k++; k%2 == 0 {
								baseCPU += turnCPU(encodeTurn(b, base, chunk, basePer))
							}
							c, bytes := encodeTurn(b, encode, chunk, per)
							cpu, wire = cpu+c, wire+bytes
							if k%2 == 1 {
								baseCPU += turnCPU(encodeTurn(b, base, chunk, basePer))
							}
						}
					}
				}
				n := float64(len(ss))
				b.ReportMetric(float64(wire)/n, "wire-B/sample")
				b.ReportMetric(float64(cpu)/float64(b.N)/n, "cpu-ns/sample")
				b.ReportMetric(float64(cpu)/float64(baseCPU), "cpu/v2")
			})
		}
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
