package ha

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// leaseStore stands in for the apiserver's Leases behind one fake clientset
// per replica. Unlike the fake clientset's own tracker it checks
// resourceVersion on update, as the apiserver does; leader election relies on
// that to let only one of two racing writers win. A replica can be cut off.
type leaseStore struct {
	mu     sync.Mutex
	rv     int
	leases map[string]*coordinationv1.Lease // by namespace/name
	down   map[string]bool                  // replicas cut off from the apiserver
	// watches by namespace/name; deaf makes every watch start and stay silent.
	watches map[string][]leaseWatch
	deaf    bool
}

type leaseWatch struct {
	id string
	w  *watch.RaceFreeFakeWatcher
}

func newLeaseStore() *leaseStore {
	return &leaseStore{leases: map[string]*coordinationv1.Lease{}, down: map[string]bool{}, watches: map[string][]leaseWatch{}}
}

var errPartitioned = errors.New("dial tcp: connection refused (test partition)")

// client returns the clientset replica id talks to the store through.
func (s *leaseStore) client(id string) *fake.Clientset {
	c := fake.NewClientset()
	c.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down[id] {
			return true, nil, errPartitioned
		}
		gr := coordinationv1.Resource("leases")
		switch a.GetVerb() {
		case "get":
			a := a.(k8stesting.GetAction)
			l := s.leases[a.GetNamespace()+"/"+a.GetName()]
			if l == nil {
				return true, nil, apierrors.NewNotFound(gr, a.GetName())
			}
			return true, l.DeepCopy(), nil
		case "create":
			a := a.(k8stesting.CreateAction)
			l := a.GetObject().(*coordinationv1.Lease).DeepCopy()
			key := a.GetNamespace() + "/" + l.Name
			if s.leases[key] != nil {
				return true, nil, apierrors.NewAlreadyExists(gr, l.Name)
			}
			s.rv++
			l.Namespace, l.ResourceVersion = a.GetNamespace(), strconv.Itoa(s.rv)
			s.leases[key] = l
			s.notify(key, watch.Added, l)
			return true, l.DeepCopy(), nil
		case "update":
			a := a.(k8stesting.UpdateAction)
			l := a.GetObject().(*coordinationv1.Lease).DeepCopy()
			key := a.GetNamespace() + "/" + l.Name
			cur := s.leases[key]
			if cur == nil {
				return true, nil, apierrors.NewNotFound(gr, l.Name)
			}
			if l.ResourceVersion != cur.ResourceVersion {
				return true, nil, apierrors.NewConflict(gr, l.Name, errors.New("the object has been modified"))
			}
			s.rv++
			l.ResourceVersion = strconv.Itoa(s.rv)
			s.leases[key] = l
			s.notify(key, watch.Modified, l)
			return true, l.DeepCopy(), nil
		}
		return false, nil, nil
	})
	c.PrependWatchReactor("leases", func(a k8stesting.Action) (bool, watch.Interface, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down[id] {
			return true, nil, errPartitioned
		}
		r := a.(k8stesting.WatchAction).GetWatchRestrictions()
		name, ok := r.Fields.RequiresExactMatch("metadata.name")
		if !ok {
			return true, nil, errors.New("the lease store only watches one Lease by name")
		}
		key := a.GetNamespace() + "/" + name
		w := watch.NewRaceFreeFake()
		if l := s.leases[key]; l != nil && l.ResourceVersion != r.ResourceVersion && !s.deaf {
			w.Modify(l.DeepCopy()) // written since the version the watch starts from
		}
		s.watches[key] = append(s.watches[key], leaseWatch{id, w})
		return true, w, nil
	})
	return c
}

// notify sends an event to the open watches of key. s.mu is held.
func (s *leaseStore) notify(key string, typ watch.EventType, l *coordinationv1.Lease) {
	open := s.watches[key][:0]
	for _, lw := range s.watches[key] {
		if lw.w.IsStopped() {
			continue
		}
		if !s.deaf {
			lw.w.Action(typ, l.DeepCopy())
		}
		open = append(open, lw)
	}
	s.watches[key] = open
}

// setDeaf makes watches deliver no events from now on.
func (s *leaseStore) setDeaf(deaf bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deaf = deaf
}

func (s *leaseStore) setDown(id string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[id] = down
	if down {
		for key, ws := range s.watches {
			for _, lw := range ws {
				if lw.id == id {
					lw.w.Stop() // a cut-off replica's watch ends
				}
			}
			s.watches[key] = slices.DeleteFunc(ws, func(lw leaseWatch) bool { return lw.id == id })
		}
	}
}

// holder returns the holder of namespace/name, or "".
func (s *leaseStore) holder(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.leases[key]; l != nil && l.Spec.HolderIdentity != nil {
		return *l.Spec.HolderIdentity
	}
	return ""
}

// termLog collects the terms of every replica of a test, to check that no two
// overlap.
type termLog struct {
	mu    sync.Mutex
	terms []loggedTerm
}

type loggedTerm struct {
	id         string
	start, end time.Time
}

func (l *termLog) add(id string, start, end time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.terms = append(l.terms, loggedTerm{id, start, end})
}

// check fails t if two terms overlap. Times carry monotonic readings of one
// process, so they compare exactly.
func (l *termLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	terms := slices.Clone(l.terms)
	slices.SortFunc(terms, func(a, b loggedTerm) int { return a.start.Compare(b.start) })
	for i := 1; i < len(terms); i++ {
		if prev, cur := terms[i-1], terms[i]; cur.start.Before(prev.end) {
			t.Errorf("terms overlap: %s led until %s, %s from %s (%s earlier)",
				prev.id, prev.end.Format(time.StampMilli), cur.id, cur.start.Format(time.StampMilli), prev.end.Sub(cur.start))
		}
	}
}

// testLogger logs to t, for the failure output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// eventually polls cond until it holds, and fails t after within. Deadlines
// are generous: the machine running the tests may be loaded.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
