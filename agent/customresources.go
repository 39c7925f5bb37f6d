package agent

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/customresource"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// Custom resources (the custom resource state config), watched as
// kube-state-metrics v2.20 watches them: every resource of the config, wildcard
// or not, is bound through discovery to the served groupVersionKinds it
// matches, with the CRD's plural; each binding is one resource to list and
// watch, through the dynamic client, with a set of its own in the snapshot
// (named group/version/plural, so that /metrics writes them in KSM's order,
// by GVR). Discovery is a watch of the CustomResourceDefinitions: a binding
// starts when a matching version is served by an established CRD, and ends
// when it is not any more (the CRD deleted or the version no longer served),
// which ends the series of all its objects, as deletes do. Unlike KSM, which
// binds every version a CRD lists, versions not served are not bound: they
// cannot be listed.
//
// The objects take the same path as the built-in ones: decoded, turned into
// series (generateListWatch) and dropped, sharded by UID, counted, relisted.

// crdGVR is what discovery watches.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// discoverySetName names the set that stands for discovery's initial list:
// it holds no objects, and is synced once the CRDs listed first are bound, so
// that the agent is ready only once their initial lists are applied too.
const discoverySetName = "customresourcedefinitions"

// customResources runs discovery and the watches of the bound resources.
type customResources struct {
	config        []customresource.Resource
	dyn           dynamic.Interface
	snap          *snapshot.Snapshot
	m             *metrics
	logger        *slog.Logger
	family        func(collectors.FamilyInfo) bool
	namespaces    []string
	fieldSelector string
	useCache      bool
	errs          *fieldErrors

	crds      *crdStore
	discovery *snapshot.Set
	synced    bool // discovery's set
	bound     map[binding]*boundResource
}

// binding is one resource of the config bound to one served kind.
type binding struct {
	index int // in the config
	kind  servedKind
}

// name is the binding's resource name: its set's, and its label in the
// agent's metrics.
func (b binding) name() string {
	return b.kind.gvk.Group + "/" + b.kind.gvk.Version + "/" + b.kind.plural
}

// boundResource is a binding's generator, its sets (one per namespace
// watched) and, while they run, its reflectors.
type boundResource struct {
	gvr     schema.GroupVersionResource
	gen     collectors.Generator
	watches []crWatch
	stop    context.CancelFunc // nil while not running
	wg      sync.WaitGroup
}

type crWatch struct {
	name  string
	lw    *cache.ListWatch
	store *reflectorStore
}

// newCustomResources returns the watches of cfg's custom resources, or nil
// without a custom resource state config.
func newCustomResources(cfg *Config, dyn dynamic.Interface, snap *snapshot.Snapshot, m *metrics,
	reg prometheus.Registerer, logger *slog.Logger) (*customResources, error) {
	if cfg.customResources == nil {
		return nil, nil
	}
	family, err := familyFilter(cfg)
	if err != nil {
		return nil, err
	}
	namespaces, selector := watchNamespaces(cfg)
	c := &customResources{
		config: cfg.customResources.Resources, dyn: dyn, snap: snap, m: m, logger: logger.With("component", "custom-resources"),
		family: family, namespaces: namespaces, fieldSelector: selector, useCache: cfg.UseAPIServerCache,
		errs: newFieldErrors(reg, logger), crds: newCRDStore(), bound: map[binding]*boundResource{},
	}
	c.discovery = snap.NewSet(discoverySetName, nil)
	for _, w := range cfg.customResources.Warnings {
		c.logger.Warn("Custom resource state config: ignored as kube-state-metrics does", "warning", w)
	}
	return c, nil
}

// run runs discovery and the bound resources' watches with the assignment as
// until ctx is done; then it stops them and waits for them. The bindings and
// their sets outlive it: the next run (after a reshard) lists again into them.
func (c *customResources) run(ctx context.Context, as assignment) {
	dctx, stopDiscovery := context.WithCancel(ctx)
	var wg sync.WaitGroup
	lw := wrapListWatch(dynamicListWatch(c.dyn.Resource(crdGVR), ""), c.m, c.logger, discoverySetName, "", c.useCache)
	r := cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, c.dyn), &unstructured.Unstructured{}, c.crds,
		cache.ReflectorOptions{Name: discoverySetName, TypeDescription: discoverySetName})
	wg.Go(func() { r.RunWithContext(dctx) })
	defer func() {
		stopDiscovery()
		wg.Wait()
		for _, b := range c.bound {
			b.halt()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.crds.changed:
			c.reconcile(ctx, as)
		}
	}
}

// reconcile makes the bindings those discovery finds now: it ends the ones
// no longer served, and binds and starts the new ones.
func (c *customResources) reconcile(ctx context.Context, as assignment) {
	want, listed := c.crds.bindings(c.config)
	for _, k := range slices.SortedFunc(maps.Keys(c.bound), compareBindings) {
		if want[k] {
			continue
		}
		b := c.bound[k]
		b.halt()
		for _, w := range b.watches {
			c.snap.RemoveSet(w.store.set)
		}
		delete(c.bound, k)
		c.logger.Info("Custom resource no longer served: its series ended", "resource", k.name())
	}
	for _, k := range slices.SortedFunc(maps.Keys(want), compareBindings) {
		b := c.bound[k]
		if b == nil {
			var err error
			if b, err = c.bind(k); err != nil {
				c.logger.Error("Custom resource not watched", "resource", k.name(), "err", err)
				continue
			}
			c.bound[k] = b
			c.logger.Info("Watching custom resource", "resource", k.name(), "kind", k.kind.gvk.String(),
				"config", c.config[k.index].GroupVersionKind.String())
		}
		if b.stop == nil {
			b.start(ctx, as, c.dyn)
		}
	}
	if listed && !c.synced {
		c.snap.Replace(c.discovery, nil)
		c.synced = true
	}
}

func compareBindings(a, b binding) int {
	return cmp.Or(cmp.Compare(a.name(), b.name()), cmp.Compare(a.index, b.index), cmp.Compare(a.kind.gvk.Kind, b.kind.gvk.Kind))
}

// bind makes the generator and the sets of a binding.
func (c *customResources) bind(k binding) (*boundResource, error) {
	r, ok := c.config[k.index].Bind(k.kind.gvk, k.kind.plural)
	if !ok {
		return nil, fmt.Errorf("%s does not match %s", c.config[k.index].GroupVersionKind, k.kind.gvk)
	}
	name := k.name()
	gen, err := customresource.NewGenerator(r, customresource.Options{OnError: c.errs.report(name), Family: c.family})
	if err != nil {
		return nil, err
	}
	b := &boundResource{
		gvr: schema.GroupVersionResource{Group: k.kind.gvk.Group, Version: k.kind.gvk.Version, Resource: k.kind.plural},
		gen: safeGenerator{Generator: gen, onPanic: c.errs.panicked(name)},
	}
	watched, selector := []string{metav1.NamespaceAll}, ""
	if k.kind.namespaced {
		watched, selector = c.namespaces, c.fieldSelector
	}
	selector = joinSelectors(selector, r.FieldSelector)
	if err := checkSelectors(c.dyn.Resource(b.gvr), r.LabelSelector, selector); err != nil {
		return nil, err
	}
	expo := snapshot.NewExposition(gen)
	expo.Sorted = true // KSM writes a custom resource's labels in name order
	for _, ns := range watched {
		store := newReflectorStoreFor(c.snap, name, nil, c.m, c.logger)
		c.snap.DescribeSet(store.set, expo)
		ri := c.dyn.Resource(b.gvr)
		var lister dynamic.ResourceInterface = ri
		watchName := name
		if ns != "" {
			lister, watchName = ri.Namespace(ns), name+"/"+ns
		}
		lw := wrapListWatch(dynamicListWatch(lister, r.LabelSelector), c.m, c.logger, name, selector, c.useCache)
		b.watches = append(b.watches, crWatch{name: watchName, lw: lw, store: store})
	}
	return b, nil
}

// start runs the binding's reflectors with the assignment as.
func (b *boundResource) start(ctx context.Context, as assignment, dyn dynamic.Interface) {
	bctx, stop := context.WithCancel(ctx)
	b.stop = stop
	for _, w := range b.watches {
		r := newObjectReflector(shardListWatch(w.lw, as), dyn, b.gen, w.store,
			cache.ReflectorOptions{Name: w.name, TypeDescription: b.gvr.String()})
		b.wg.Go(func() { r.RunWithContext(bctx) })
	}
}

// halt stops the binding's reflectors and waits for them.
func (b *boundResource) halt() {
	if b.stop == nil {
		return
	}
	b.stop()
	b.wg.Wait()
	b.stop = nil
}

// dynamicListWatch lists and watches through a dynamic resource client the
// objects labelSelector selects.
func dynamicListWatch(ri dynamic.ResourceInterface, labelSelector string) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = labelSelector
			l, err := ri.List(ctx, o)
			if err != nil {
				return nil, err
			}
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = labelSelector
			return ri.Watch(ctx, o)
		},
	}
}

// joinSelectors is the field selector of both (either may be empty).
func joinSelectors(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "," + b
}

// checkSelectors asks for one object with a resource's selectors, when it
// has any: the apiserver refuses a field a custom resource cannot be
// selected by (only metadata.name, metadata.namespace and the CRD's
// selectableFields can), which a watch would retry for ever. The error is
// that refusal; any other failure is left to the watch, which retries it.
func checkSelectors(ri dynamic.ResourceInterface, labelSelector, fieldSelector string) error {
	if labelSelector == "" && fieldSelector == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := ri.List(ctx, metav1.ListOptions{LabelSelector: labelSelector, FieldSelector: fieldSelector, Limit: 1})
	if apierrors.IsBadRequest(err) {
		return fmt.Errorf("the apiserver refuses its selectors (labelSelector %q, fieldSelector %q): %w", labelSelector, fieldSelector, err)
	}
	return nil
}

// safeGenerator is a custom resource generator that never takes the watch
// down: a panic while generating (which the generator is not meant to have)
// is reported, and the object dropped as invalid.
type safeGenerator struct {
	*customresource.Generator
	onPanic func(any)
}

func (g safeGenerator) Generate(obj any) (o collectors.Object, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			g.onPanic(p)
			o, ok = collectors.Object{}, false
		}
	}()
	return g.Generator.Generate(obj)
}
