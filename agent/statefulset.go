package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Automatic sharding (--pod) learns its assignment from the StatefulSet that
// owns the pod: the shard is the pod's ordinal, the total the StatefulSet's
// replicas, followed by a watch of that one StatefulSet. What a change of
// the assignment does is sharding.go's.

// autoShard returns the StatefulSet that owns the pod and the pod's
// assignment: its ordinal among the StatefulSet's replicas.
func autoShard(ctx context.Context, c kubernetes.Interface, namespace, pod string) (string, assignment, error) {
	name, ord, err := statefulSetShard(ctx, c, namespace, pod)
	if err != nil {
		return "", assignment{}, err
	}
	s, err := c.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", assignment{}, fmt.Errorf("--pod %s/%s: statefulset %s: %w", namespace, pod, name, err)
	}
	return name, assignment{shard: ord, total: replicas(s)}, nil
}

// statefulSetShard finds, for automatic sharding, the StatefulSet that owns
// the pod, and the pod's ordinal in it.
func statefulSetShard(ctx context.Context, c kubernetes.Interface, namespace, pod string) (sts string, ordinal int, err error) {
	p, err := c.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("--pod %s/%s: %w", namespace, pod, err)
	}
	for _, ref := range p.OwnerReferences {
		if ref.Kind == "StatefulSet" && strings.HasPrefix(ref.APIVersion, "apps/") {
			sts = ref.Name
			break
		}
	}
	if sts == "" {
		return "", 0, &ConfigError{Err: fmt.Errorf("--pod %s/%s: not owned by a StatefulSet", namespace, pod)}
	}
	suffix, ok := strings.CutPrefix(pod, sts+"-")
	n, err := strconv.Atoi(suffix)
	if !ok || err != nil || n < 0 {
		return "", 0, &ConfigError{Err: fmt.Errorf("--pod %s/%s: name is not %s-<ordinal>", namespace, pod, sts)}
	}
	return sts, n, nil
}

func replicas(s *appsv1.StatefulSet) int {
	if s.Spec.Replicas == nil {
		return 1
	}
	return int(*s.Spec.Replicas)
}

// statefulSetWatch follows the replicas of one StatefulSet.
type statefulSetWatch struct {
	reflector *cache.Reflector
	store     cache.Store
}

// watchStatefulSet returns a watch of the named StatefulSet that calls
// changed with its replicas after each event. Run it with run.
func watchStatefulSet(c kubernetes.Interface, namespace, name string, changed func(int)) *statefulSetWatch {
	lw := cache.NewListWatchFromClient(c.AppsV1().RESTClient(), "statefulsets", namespace,
		fields.OneTermEqualSelector("metadata.name", name))
	notify := func(obj any) {
		if s, ok := obj.(*appsv1.StatefulSet); ok {
			changed(replicas(s))
		}
	}
	store := &notifyStore{Store: cache.NewStore(cache.MetaNamespaceKeyFunc), notify: notify}
	r := cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, c), &appsv1.StatefulSet{}, store,
		cache.ReflectorOptions{Name: "shard-statefulset"})
	return &statefulSetWatch{reflector: r, store: store}
}

func (w *statefulSetWatch) run(ctx context.Context) { w.reflector.RunWithContext(ctx) }

// notifyStore calls notify with every object added, updated or listed.
type notifyStore struct {
	cache.Store
	notify func(any)
}

func (s *notifyStore) Add(obj any) error    { s.notify(obj); return s.Store.Add(obj) }
func (s *notifyStore) Update(obj any) error { s.notify(obj); return s.Store.Update(obj) }
func (s *notifyStore) Replace(list []any, rv string) error {
	for _, obj := range list {
		s.notify(obj)
	}
	return s.Store.Replace(list, rv)
}

// ShardRBACRules returns the rules automatic sharding (--pod) needs, for a
// Role in the pod's namespace: get on pods (its own), and get, list and watch
// on statefulsets (its own, found by a field selector on its name).
func ShardRBACRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list", "watch"}},
	}
}
