package agent

import (
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/customresource"
)

// servedKind is one version of a CRD that its apiserver serves.
type servedKind struct {
	gvk        customresource.GroupVersionKind
	plural     string
	namespaced bool
}

// crdStore is the store of discovery's reflector: of each CRD it keeps only
// the versions served, and it signals changed when they change.
type crdStore struct {
	mu      sync.Mutex
	crds    map[string][]servedKind // by CRD name
	listed  bool                    // the first list is in
	changed chan struct{}
}

var _ cache.ReflectorStore = (*crdStore)(nil)

func newCRDStore() *crdStore {
	return &crdStore{crds: map[string][]servedKind{}, changed: make(chan struct{}, 1)}
}

func (s *crdStore) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *crdStore) Add(obj any) error    { s.set(obj); return nil }
func (s *crdStore) Update(obj any) error { s.set(obj); return nil }
func (s *crdStore) Resync() error        { return nil }

func (s *crdStore) set(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	kinds := servedKinds(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.crds[u.GetName()]; ok && slices.Equal(prev, kinds) {
		return
	}
	s.crds[u.GetName()] = kinds
	s.signal()
}

func (s *crdStore) Delete(obj any) error {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.crds, u.GetName())
	s.signal()
	return nil
}

func (s *crdStore) Replace(list []any, _ string) error {
	crds := make(map[string][]servedKind, len(list))
	for _, obj := range list {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			crds[u.GetName()] = servedKinds(u)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crds, s.listed = crds, true
	s.signal()
	return nil
}

// bindings returns what the config's resources bind to among the served
// kinds, and whether the CRDs were listed yet.
func (s *crdStore) bindings(config []customresource.Resource) (map[binding]bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[binding]bool{}
	for _, name := range slices.Sorted(maps.Keys(s.crds)) {
		for _, k := range s.crds[name] {
			for i, r := range config {
				if r.Matches(k.gvk) {
					out[binding{index: i, kind: k}] = true
				}
			}
		}
	}
	return out, s.listed
}

// servedKinds returns the versions of a CRD that are served, none until the
// CRD is established (its names accepted and its API installed).
func servedKinds(u *unstructured.Unstructured) []servedKind {
	if !established(u) {
		return nil
	}
	group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
	scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
	versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	var out []servedKind
	for _, v := range versions {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if served, _ := m["served"].(bool); !served || name == "" || group == "" || kind == "" || plural == "" {
			continue
		}
		out = append(out, servedKind{gvk: customresource.GroupVersionKind{Group: group, Version: name, Kind: kind},
			plural: plural, namespaced: scope != "Cluster"})
	}
	return out
}

// established reports whether the CRD's Established condition is True.
func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" {
			return m["status"] == "True"
		}
	}
	return false
}
