package collectors

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ksmFamily is one row of testdata/ksm-families.tsv: a KSM v2.20 family.
type ksmFamily struct {
	resource, name string
	typ            Type
	labels         []string
	stability      Stability
	defaultOn      bool
}

var (
	ksmOnce     sync.Once
	ksmFamilies map[string]ksmFamily
	ksmErr      error
)

// ksmChecklist reads testdata/ksm-families.tsv, by family name.
func ksmChecklist(t testing.TB) map[string]ksmFamily {
	t.Helper()
	ksmOnce.Do(func() {
		f, err := os.Open("testdata/ksm-families.tsv")
		if err != nil {
			ksmErr = err
			return
		}
		defer f.Close()
		ksmFamilies = map[string]ksmFamily{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "#") {
				continue
			}
			c := strings.Split(sc.Text(), "\t")
			if strings.HasPrefix(c[0], "_") { // KSM's own telemetry, not a resource
				continue
			}
			ksmFamilies[c[1]] = ksmFamily{
				resource: c[0], name: c[1], typ: Type(c[2]), labels: strings.Split(c[3], ","),
				stability: Stability(c[4]), defaultOn: c[5] == "yes",
			}
		}
		ksmErr = sc.Err()
	})
	if ksmErr != nil {
		t.Fatal(ksmErr)
	}
	return ksmFamilies
}

// optInFamilies are the families KSM enables only through --metric-opt-in-list.
var optInFamilies = []string{"kube_pod_nodeselectors", "kube_persistentvolume_csi_attributes"}

// TestFamiliesMatchKSM checks every registered resource against the checklist:
// the same families, each with KSM's type, stability and opt-in status.
func TestFamiliesMatchKSM(t *testing.T) {
	checklist := ksmChecklist(t)
	for _, r := range All() {
		t.Run(r.Name(), func(t *testing.T) {
			want := map[string]ksmFamily{}
			for name, f := range checklist {
				if f.resource == r.Name() {
					want[name] = f
				}
			}
			if len(want) == 0 {
				t.Fatalf("resource %s is not a KSM resource", r.Name())
			}
			for _, got := range r.Families() {
				w, ok := want[got.Name]
				if !ok {
					t.Errorf("family %s is not among KSM's %s families", got.Name, r.Name())
					continue
				}
				delete(want, got.Name)
				if got.Type != w.typ || got.Stability != w.stability {
					t.Errorf("%s: type %s stability %s, want %s %s", got.Name, got.Type, got.Stability, w.typ, w.stability)
				}
				if got.OptIn != slices.Contains(optInFamilies, got.Name) {
					t.Errorf("%s: opt-in %v", got.Name, got.OptIn)
				}
				if got.Help == "" {
					t.Errorf("%s has no help text", got.Name)
				}
			}
			for name := range want {
				t.Errorf("missing family %s", name)
			}
		})
	}
}

// checkLabelNames asserts that every label of s is one KSM's family has.
func checkLabelNames(t *testing.T, s Series) {
	t.Helper()
	name := s.Labels.Get(MetricName)
	f, ok := ksmChecklist(t)[name]
	if !ok {
		t.Errorf("series of unknown family %s", name)
		return
	}
	for l := range s.Labels.All() {
		if l.Name == MetricName || slices.Contains(f.labels, l.Name) {
			continue
		}
		dynamic := false
		for _, k := range f.labels {
			if prefix, ok := strings.CutSuffix(k, "<sanitized key>"); ok && strings.HasPrefix(l.Name, prefix) {
				dynamic = true
			}
		}
		if !dynamic {
			t.Errorf("%s has label %q, not one of KSM's %v", name, l.Name, f.labels)
		}
	}
}

// TestEveryKSMResource checks that the registry has every KSM resource and
// every family of the checklist, with KSM's default set.
func TestEveryKSMResource(t *testing.T) {
	checklist := ksmChecklist(t)
	families := 0
	for _, r := range All() {
		families += len(r.Families())
	}
	resources := map[string]bool{}
	for _, f := range checklist {
		resources[f.resource] = true
	}
	if len(All()) != len(resources) || len(resources) != 39 {
		t.Errorf("%d resources registered, KSM has %d (39 expected)", len(All()), len(resources))
	}
	if families != len(checklist) || families != 336 {
		t.Errorf("%d families registered, KSM has %d (336 expected)", families, len(checklist))
	}
	nonDefault := []string{"clusterrolebindings", "clusterroles", "endpoints", "ingressclasses", "rolebindings", "roles", "serviceaccounts"}
	for _, r := range All() {
		if r.Default() == slices.Contains(nonDefault, r.Name()) {
			t.Errorf("%s: default = %v", r.Name(), r.Default())
		}
	}
}

func TestUnobservedWorkloads(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u", Generation: 1}
	for _, tc := range []struct {
		resource string
		obj      func(observed int64) any
	}{
		{"deployments", func(g int64) any {
			return &appsv1.Deployment{ObjectMeta: meta, Status: appsv1.DeploymentStatus{ObservedGeneration: g}}
		}},
		{"statefulsets", func(g int64) any {
			return &appsv1.StatefulSet{ObjectMeta: meta, Status: appsv1.StatefulSetStatus{ObservedGeneration: g}}
		}},
		{"daemonsets", func(g int64) any {
			return &appsv1.DaemonSet{ObjectMeta: meta, Status: appsv1.DaemonSetStatus{ObservedGeneration: g}}
		}},
		{"replicasets", func(g int64) any {
			return &appsv1.ReplicaSet{ObjectMeta: meta, Status: appsv1.ReplicaSetStatus{ObservedGeneration: g}}
		}},
		{"pods", func(int64) any { return &v1.Pod{ObjectMeta: meta} }},
	} {
		rs, err := Lookup([]string{tc.resource})
		if err != nil {
			t.Fatal(err)
		}
		g := rs[0].NewGenerator(Options{})
		for observed, want := range map[int64]bool{0: tc.resource != "pods", 1: false} {
			o, ok := g.Generate(tc.obj(observed))
			if !ok || o.Unobserved != want {
				t.Errorf("%s with status.observedGeneration %d: Unobserved = %v (ok %v), want %v", tc.resource, observed, o.Unobserved, ok, want)
			}
		}
	}
}

// TestFamilyOrderMatchesKSM checks that each resource's generator emits its
// families in KSM's order (testdata/ksm-family-order.txt): the order of their
// headers on /metrics (--metrics-address).
func TestFamilyOrderMatchesKSM(t *testing.T) {
	data, err := os.ReadFile("testdata/ksm-family-order.txt")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			order = append(order, l)
		}
	}
	var got []string
	for _, r := range All() {
		for _, f := range r.NewGenerator(Options{Family: func(FamilyInfo) bool { return true }}).Families() {
			got = append(got, f.Name)
		}
	}
	if diff := cmp.Diff(order, got); diff != "" {
		t.Errorf("families not in KSM's order (-KSM +ours):\n%s", diff)
	}
}
