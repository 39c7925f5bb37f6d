package agent

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// reflectorStore is the store a client-go Reflector writes into. It keeps no
// objects: it gets them as series already (generateListWatch) and hands them
// to the snapshot.
type reflectorStore struct {
	snap    *snapshot.Snapshot
	set     *snapshot.Set
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

func newReflectorStore(snap *snapshot.Snapshot, r collectors.Resource, m *metrics, logger *slog.Logger) *reflectorStore {
	return newReflectorStoreFor(snap, r.Name(), snapshot.CounterFamilies(r), m, logger)
}

// newReflectorStoreFor is newReflectorStore for a resource by name, with its
// counter families (snapshot.NewSet): a custom resource's.
func newReflectorStoreFor(snap *snapshot.Snapshot, name string, counters []string, m *metrics, logger *slog.Logger) *reflectorStore {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &reflectorStore{
		snap:    snap,
		set:     snap.NewSet(name, counters),
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
		s.logger.Warn("Dropped object of unexpected type or without UID", "resource", s.set.Resource(), "type", kindOf(obj))
		return
	}
	s.snap.Apply(s.set, o)
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
		s.logger.Warn("Dropped delete of unexpected type or without UID", "resource", s.set.Resource(), "type", kindOf(obj))
		return nil
	}
	s.snap.Remove(s.set, string(m.GetUID()), m.GetResourceVersion())
	return nil
}

// Replace applies an initial list or a relist: objects missing from list end
// their series.
func (s *reflectorStore) Replace(list []any, _ string) error {
	if s.snap.IsSynced(s.set) {
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
	s.snap.ReplaceKeeping(s.set, objs, applied)
	return nil
}

func (s *reflectorStore) Resync() error { return nil }

func (s *reflectorStore) Bookmark(string) error { return nil }

func typeName(obj any) string { return fmt.Sprintf("%T", obj) }

// applyInitial applies an object of the initial list as it is decoded; see
// Snapshot.ApplyInitial.
func (s *reflectorStore) applyInitial(o collectors.Object) bool {
	return s.snap.ApplyInitial(s.set, o)
}
