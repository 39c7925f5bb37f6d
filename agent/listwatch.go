package agent

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// wrapListWatch adds the namespace denylist's field selector, forces quorum
// reads unless the apiserver cache may serve lists, counts list and watch
// calls by result (like KSM's kube_state_metrics_list_total and _watch_total),
// and lists again when resourceVersions went back (resumeCheck).
func wrapListWatch(lw *cache.ListWatch, m *metrics, logger *slog.Logger, resource, fieldSelector string, useCache bool) *cache.ListWatch {
	list, watchFn := lw.ListWithContextFunc, lw.WatchFuncWithContext
	count := func(c *prometheus.CounterVec, err error) {
		result := "success"
		if err != nil {
			result = "error"
		}
		c.WithLabelValues(resource, result).Inc()
	}
	check := &resumeCheck{list: list, fieldSelector: fieldSelector, resource: resource,
		resets: m.rvResets.WithLabelValues(resource), logger: logger}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fieldSelector
			if !useCache && o.ResourceVersion == "0" {
				o.ResourceVersion = ""
			}
			if check.rebase.Swap(false) {
				o.ResourceVersion, o.ResourceVersionMatch = "", ""
			}
			obj, err := list(ctx, o)
			count(m.lists, err)
			return obj, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = fieldSelector
			if o.SendInitialEvents != nil && *o.SendInitialEvents {
				// A streaming list: what a list is, through a watch.
				if check.rebase.Swap(false) {
					o.ResourceVersion = ""
				}
			} else if err := check.resumable(ctx, o.ResourceVersion); err != nil {
				count(m.watches, err)
				return nil, err
			}
			w, err := watchFn(ctx, o)
			count(m.watches, err)
			return w, err
		},
	}
}

// resumeCheck guards a watch that resumes from a resourceVersion against
// resourceVersions that went back: after etcd is restored from a backup (of its
// data directory, or a snapshot restored without --bump-revision) the
// apiserver's revision is lower than those the agent saw, and it accepts a
// watch from a resourceVersion it has not reached yet without an error, only to
// leave out every event until its revision passes that value. Such a watch
// would miss the restored cluster's changes; instead the reflector is told the
// resourceVersion expired, and its next list asks for the current state.
type resumeCheck struct {
	list          cache.ListWithContextFunc
	fieldSelector string
	resource      string
	resets        prometheus.Counter
	logger        *slog.Logger
	rebase        atomic.Bool // the next list starts afresh, not at the old resourceVersion
}

// resumable asks the apiserver for its current resourceVersion (a one-item
// quorum list) and returns an Expired error when rv is ahead of it. It lets
// the watch go on when rv is not a resume point or the check itself fails
// (the watch call reports that error).
func (c *resumeCheck) resumable(ctx context.Context, rv string) error {
	if rv == "" || rv == "0" {
		return nil
	}
	obj, err := c.list(ctx, metav1.ListOptions{FieldSelector: c.fieldSelector, Limit: 1})
	if err != nil {
		return nil
	}
	lm, err := meta.ListAccessor(obj)
	if err != nil {
		return nil
	}
	current := lm.GetResourceVersion()
	if cmp, err := resourceversion.CompareResourceVersion(current, rv); err != nil || cmp >= 0 {
		return nil // opaque resourceVersions cannot be compared; a watch from them is all there is
	}
	c.resets.Inc()
	c.rebase.Store(true)
	c.logger.Warn("The apiserver's resourceVersion is lower than the one the watch would resume from (etcd restored from a backup?); listing the current state again",
		"resource", c.resource, "resume", rv, "current", current)
	return apierrors.NewResourceExpired(fmt.Sprintf("resourceVersion %s is ahead of the apiserver's %s", rv, current))
}
