package agent

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// Secrets and ConfigMaps go through the real reflector path with every label
// and annotation allowed, and none of their data is in the snapshot or in
// what it sends: the store keeps no objects, and the series carry metadata
// only (a Secret's last-applied-configuration annotation, which holds its data,
// is never exported).
func TestSnapshotHoldsNoSecretData(t *testing.T) {
	const secret = "s3cr3t-Zq8vX" // in every data field
	lastApplied := `{"apiVersion":"v1","kind":"Secret","stringData":{"password":"` + secret + `"}}`
	client := fake.NewClientset(
		&v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db", UID: "s1", ResourceVersion: "1",
				Labels:      map[string]string{"app": "db"},
				Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": lastApplied, "team": "a"}},
			Type:       v1.SecretTypeOpaque,
			Data:       map[string][]byte{"password": []byte(secret)},
			StringData: map[string]string{"token": secret},
		},
		&v1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cfg", UID: "c1", ResourceVersion: "2",
				Labels: map[string]string{"app": "db"}},
			Data:       map[string]string{"dsn": "postgres://u:" + secret + "@db"},
			BinaryData: map[string][]byte{"key": []byte(secret)},
		},
	)
	rec := &lockedRecorder{}
	m := newMetrics(nil, nil)
	snap := snapshot.New(rec, nil)
	rs, err := collectors.Lookup([]string{"secrets", "configmaps"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stops []chan struct{}
	for _, r := range rs {
		opts := collectors.Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"*"}}
		gen := r.NewGenerator(opts)
		store := newReflectorStore(snap, r, m, nil)
		refl := newObjectReflector(r.ListWatch(client, ""), client, gen, store, cache.ReflectorOptions{})
		done := make(chan struct{})
		stops = append(stops, done)
		go func() { refl.RunWithContext(ctx); close(done) }()
	}
	defer func() {
		cancel()
		for _, d := range stops {
			<-d
		}
	}()
	waitFor(t, "initial lists", snap.Synced)

	// The annotations that are not data do get through: the check below is
	// not vacuous.
	if got := rec.last("kube_secret_annotations"); len(got) != 1 || !strings.Contains(firstKey(got), `annotation_team="a"`) {
		t.Fatalf("kube_secret_annotations = %v", got)
	}
	var seen int
	snap.Each(func(uid string, ls series.Labels) {
		seen++
		if s := ls.String(); strings.Contains(s, secret) {
			t.Errorf("object %s keeps %s", uid, s)
		}
	})
	if seen == 0 {
		t.Fatal("the snapshot holds no series")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.all {
		if strings.Contains(s.Labels.String(), secret) {
			t.Errorf("sent %s", s.Labels)
		}
	}
}

func firstKey(m map[string]float64) string {
	for k := range m {
		return k
	}
	return ""
}
