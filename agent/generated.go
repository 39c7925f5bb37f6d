package agent

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// generated stands in for an API object from the moment it is decoded: its
// series, and of its metadata only what the reflector and the store use. The
// object itself is dropped at once, so that an initial list of thousands of
// pods is never in memory at the same time, neither in a list response nor in
// the reflector's buffer of a streaming list; only their series are.
type generated struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	obj collectors.Object
	// valid is false for an object the generator refused (wrong type or no
	// UID); kind names its type for the log.
	valid bool
	kind  string
	// applied objects went to the snapshot as they were decoded (an initial
	// list); their series are gone from the stand-in.
	applied bool
}

func (g *generated) DeepCopyObject() runtime.Object {
	c := *g
	g.DeepCopyInto(&c.ObjectMeta)
	return &c // the series are never modified: shared
}

// generatedList is a list response of generated objects.
type generatedList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []runtime.Object
}

func (l *generatedList) DeepCopyObject() runtime.Object {
	c := *l
	l.DeepCopyInto(&c.ListMeta)
	c.Items = make([]runtime.Object, len(l.Items))
	for i, it := range l.Items {
		c.Items[i] = it.DeepCopyObject()
	}
	return &c
}

// generate turns an API object into its stand-in. Deleted objects need no
// series: withSeries is false for them.
func generate(gen collectors.Generator, obj runtime.Object, withSeries bool) *generated {
	g := &generated{kind: typeName(obj)}
	m, err := meta.Accessor(obj)
	if err != nil {
		return g
	}
	g.ObjectMeta = metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
		ResourceVersion: m.GetResourceVersion()}
	if !withSeries {
		g.valid = g.UID != ""
		return g
	}
	g.obj, g.valid = gen.Generate(obj)
	g.valid = g.valid && g.obj.UID != ""
	return g
}

// initialApplier takes an object's series at once while its set has not
// applied its initial list (reflectorStore).
type initialApplier interface {
	applyInitial(collectors.Object) bool
}

// generateListWatch turns the objects of lw's lists and watch events into
// their series as they are decoded (see generated), and, until the initial
// list is applied, hands them to initial at once (nil: never). The reflector on
// top must expect *generated objects. Bookmarks keep their resource version
// and annotations (the end of a streaming list is marked there); errors pass
// unchanged.
func generateListWatch(lw *cache.ListWatch, gen collectors.Generator, initial initialApplier) *cache.ListWatch {
	upsert := func(obj runtime.Object) *generated {
		g := generate(gen, obj, true)
		if g.valid && initial != nil && initial.applyInitial(g.obj) {
			g.applied, g.obj.Series = true, nil
		}
		return g
	}
	return mapListWatch(lw,
		func(obj runtime.Object) (runtime.Object, error) {
			lm, err := meta.ListAccessor(obj)
			if err != nil {
				return nil, fmt.Errorf("list response: %w", err)
			}
			out := &generatedList{ListMeta: metav1.ListMeta{ResourceVersion: lm.GetResourceVersion(),
				Continue: lm.GetContinue(), RemainingItemCount: lm.GetRemainingItemCount()}}
			out.Items = make([]runtime.Object, 0, meta.LenList(obj))
			if err := meta.EachListItem(obj, func(it runtime.Object) error {
				out.Items = append(out.Items, upsert(it))
				return nil
			}); err != nil {
				return nil, fmt.Errorf("list response: %w", err)
			}
			return out, nil
		},
		func(e watch.Event) (watch.Event, bool) {
			switch e.Type {
			case watch.Added, watch.Modified:
				e.Object = upsert(e.Object)
			case watch.Deleted:
				e.Object = generate(gen, e.Object, false)
			case watch.Bookmark:
				g := generate(gen, e.Object, false)
				if m, err := meta.Accessor(e.Object); err == nil {
					g.Annotations = m.GetAnnotations()
				}
				e.Object = g
			}
			return e, true
		})
}

// watchBackoff is how the reflectors wait between failed lists and watches:
// from 0.5 s, doubling, up to 5 s (with up to half of it again as jitter), where
// client-go's default goes up to 30 s, plus as much jitter. After an apiserver
// outage the objects' state is stale until the relist, so it should come soon
// after; an agent has a few dozen reflectors, not the thousands of clients the
// default protects the apiserver from, and an apiserver that sheds load
// answers 429 with a Retry-After, which client-go's REST client honours.
var watchBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 10, Cap: 5 * time.Second}

// newObjectReflector returns the reflector of one list/watch: lw's objects
// become series as they are decoded (generateListWatch) and go to store; those
// of the initial list go to the snapshot at once. It backs off as watchBackoff
// unless opts says otherwise.
func newObjectReflector(lw *cache.ListWatch, client kubernetes.Interface, gen collectors.Generator,
	store *reflectorStore, opts cache.ReflectorOptions) *cache.Reflector {
	if opts.Backoff == nil {
		b := watchBackoff
		opts.Backoff = &b
	}
	return cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(generateListWatch(lw, gen, store), client),
		&generated{}, store, opts)
}
