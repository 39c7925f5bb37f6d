package agent

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// reflectorStore is the store a client-go Reflector writes into. It keeps no
// objects: it gets them as series already (generateListWatch) and hands them
// to the snapshot.
type reflectorStore struct {
	snap    *Snapshot
	set     *objectSet
	logger  *slog.Logger
	added   prometheus.Counter
	updated prometheus.Counter
	deleted prometheus.Counter
	relists prometheus.Counter
	invalid prometheus.Counter
}

var (
	_ cache.ReflectorStore         = (*reflectorStore)(nil)
	_ cache.ReflectorBookmarkStore = (*reflectorStore)(nil)
)

func newReflectorStore(snap *Snapshot, r collectors.Resource, m *metrics, logger *slog.Logger) *reflectorStore {
	name := r.Name()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &reflectorStore{
		snap:    snap,
		set:     snap.newSet(name, counterFamilies(r)),
		logger:  logger,
		added:   m.events.WithLabelValues(name, "add"),
		updated: m.events.WithLabelValues(name, "update"),
		deleted: m.events.WithLabelValues(name, "delete"),
		relists: m.relists.WithLabelValues(name),
		invalid: m.invalidObjects.WithLabelValues(name),
	}
}

func (s *reflectorStore) Add(obj any) error {
	s.added.Inc()
	s.upsert(obj)
	return nil
}

func (s *reflectorStore) Update(obj any) error {
	s.updated.Inc()
	s.upsert(obj)
	return nil
}

func (s *reflectorStore) upsert(obj any) {
	if g, ok := obj.(*generated); ok && g.applied {
		return // in the snapshot already
	}
	o, ok := generatedSeries(obj)
	if !ok {
		s.invalid.Inc()
		s.logger.Warn("Dropped object of unexpected type or without UID", "resource", s.set.resource, "type", kindOf(obj))
		return
	}
	s.snap.apply(s.set, o)
}

// counterFamilies returns the names of r's counter families.
func counterFamilies(r collectors.Resource) []string {
	var out []string
	for _, f := range r.Families() {
		if f.Type == collectors.Counter {
			out = append(out, f.Name)
		}
	}
	return out
}

// generatedSeries returns the series of an object the list/watch generated; anything
// else is invalid.
func generatedSeries(obj any) (collectors.Object, bool) {
	if g, ok := obj.(*generated); ok {
		return g.obj, g.valid
	}
	return collectors.Object{}, false
}

func kindOf(obj any) string {
	if g, ok := obj.(*generated); ok {
		return g.kind
	}
	return typeName(obj)
}

func (s *reflectorStore) Delete(obj any) error {
	s.deleted.Inc()
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil || m.GetUID() == "" {
		s.invalid.Inc()
		s.logger.Warn("Dropped delete of unexpected type or without UID", "resource", s.set.resource, "type", kindOf(obj))
		return nil
	}
	s.snap.remove(s.set, string(m.GetUID()), m.GetResourceVersion())
	return nil
}

// Replace applies an initial list or a relist: objects missing from list end
// their series.
func (s *reflectorStore) Replace(list []any, _ string) error {
	if s.snap.isSynced(s.set) {
		s.relists.Inc()
	}
	objs := make([]collectors.Object, 0, len(list))
	var applied []string
	for _, obj := range list {
		g, isGenerated := obj.(*generated)
		if isGenerated && g.applied {
			applied = append(applied, string(g.UID))
			continue
		}
		o, ok := generatedSeries(obj)
		if isGenerated {
			g.obj.Series = nil // the reflector keeps the list until this returns; replace frees as it goes
		}
		if !ok {
			s.invalid.Inc()
			continue
		}
		objs = append(objs, o)
	}
	s.snap.replaceKeeping(s.set, objs, applied)
	return nil
}

func (s *reflectorStore) Resync() error { return nil }

func (s *reflectorStore) Bookmark(string) error { return nil }

func typeName(obj any) string { return fmt.Sprintf("%T", obj) }

// applyInitial applies an object of the initial list as it is decoded; see
// Snapshot.applyInitial.
func (s *reflectorStore) applyInitial(o collectors.Object) bool {
	return s.snap.applyInitial(s.set, o)
}
