package daemonset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/history"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// maxPerSync bounds the pods created or deleted in one sync.
const maxPerSync = 500

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	shared, err := c.sets.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if shared.DeletionTimestamp != nil {
		return controller.Result{}, nil // the garbage collector removes its pods
	}
	ds := shared.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		return controller.Result{}, controller.Terminal(fmt.Errorf("daemonset %s has an invalid or empty selector: %v", key, err))
	}
	m := &podcontrol.RefManager{Owner: ds, GVK: kind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		}, ds.UID)}
	cur, revs, err := c.revisions(ctx, ds, m)
	if err != nil {
		return controller.Result{}, err
	}
	hash := cur.Labels[appsv1.ControllerRevisionHashLabelKey]
	pods, err := c.claimPods(ctx, ds, m)
	if err != nil {
		return controller.Result{}, err
	}
	nodes, orphans, err := c.nodeStates(ds, pods)
	if err != nil {
		return controller.Result{}, err
	}
	now := c.now()
	var backoff time.Duration // a failed pod left for later
	r := rules{
		isNew:     func(p *corev1.Pod) bool { return p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash },
		available: func(p *corev1.Pod) bool { return podcontrol.IsAvailable(p, ds.Spec.MinReadySeconds, now) },
		surge:     surge(ds),
		inBackoff: func(node string) bool {
			id := backoffKey(ds, node)
			if !c.failedBackoff.IsInBackOffSinceUpdate(id, now) {
				return false
			}
			if d := c.failedBackoff.Get(id); backoff == 0 || d < backoff {
				backoff = d
			}
			return true
		},
	}
	var syncErr error
	if c.expect.Satisfied(key) {
		p := manage(nodes, r)
		p.delete = append(p.delete, orphans...)
		if ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
			desired := 0
			for _, n := range nodes {
				if n.run {
					desired++
				}
			}
			maxUnavailable, maxSurge := budget(ds.Spec.UpdateStrategy.RollingUpdate, desired)
			rollingUpdate(&p, nodes, r, maxUnavailable, maxSurge)
		}
		syncErr = c.execute(ctx, key, ds, hash, p)
	}
	if err := c.truncate(ctx, ds, revs, cur, pods); err != nil && syncErr == nil {
		syncErr = err
	}
	if err := c.updateStatus(ctx, shared, ds, nodes, r); err != nil {
		return controller.Result{}, err
	}
	after := c.requeue(ds, pods, now)
	if backoff > 0 && (after == 0 || backoff < after) {
		after = backoff
	}
	return controller.Result{RequeueAfter: after}, syncErr
}

func surge(ds *appsv1.DaemonSet) bool {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType || ru == nil || ru.MaxSurge == nil {
		return false
	}
	// Scaled against one node, any non-zero percentage rounds up to 1.
	v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, 1, true)
	return err == nil && v > 0
}

func backoffKey(ds *appsv1.DaemonSet, node string) string { return string(ds.UID) + "/" + node }

// revisions records the current template as the newest revision and
// returns it with all revisions of ds.
func (c *Controller) revisions(ctx context.Context, ds *appsv1.DaemonSet, m *podcontrol.RefManager) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	revs, err := c.history.List(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	data, err := history.Data(ds)
	if err != nil {
		return nil, nil, controller.Terminal(err)
	}
	if ds.Status.CollisionCount == nil {
		ds.Status.CollisionCount = new(int32)
	}
	owner := history.Owner{Object: ds, Kind: kind, TemplateLabels: ds.Spec.Template.Labels}
	cur, err := c.history.Ensure(ctx, owner, revs, data, ds.Status.CollisionCount)
	if err != nil {
		return nil, nil, err
	}
	return cur, revs, nil
}

// truncate deletes revisions beyond revisionHistoryLimit that no pod runs.
func (c *Controller) truncate(ctx context.Context, ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision, cur *appsv1.ControllerRevision, pods []*corev1.Pod) error {
	inUse := map[string]bool{cur.Labels[appsv1.ControllerRevisionHashLabelKey]: true}
	for _, p := range pods {
		inUse[p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
	}
	limit := int32(10)
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = *ds.Spec.RevisionHistoryLimit
	}
	live := func(r *appsv1.ControllerRevision) bool {
		return r.Name == cur.Name || inUse[r.Labels[appsv1.ControllerRevisionHashLabelKey]]
	}
	return c.history.Truncate(ctx, revs, live, limit)
}

func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, m *podcontrol.RefManager) ([]*corev1.Pod, error) {
	all, err := c.pods.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return m.ClaimPods(ctx, c.client, all)
}

// nodeStates groups pods by the node they target and decides placement
// per node. Pods whose node is gone (or that target none) are returned
// as orphans to delete.
func (c *Controller) nodeStates(ds *appsv1.DaemonSet, pods []*corev1.Pod) ([]nodeState, []*corev1.Pod, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		n, _ := targetNode(p)
		byNode[n] = append(byNode[n], p)
	}
	out := make([]nodeState, 0, len(nodes))
	for _, n := range nodes {
		run, keep := placement(n, &ds.Spec.Template.Spec)
		out = append(out, nodeState{name: n.Name, run: run, keep: keep, pods: byNode[n.Name]})
		delete(byNode, n.Name)
	}
	var orphans []*corev1.Pod
	for _, ps := range byNode {
		for _, p := range ps {
			if p.DeletionTimestamp == nil {
				orphans = append(orphans, p)
			}
		}
	}
	return out, orphans, nil
}

// execute carries out a plan under expectations, so the next sync waits
// until the cache shows these writes.
func (c *Controller) execute(ctx context.Context, key string, ds *appsv1.DaemonSet, hash string, p plan) error {
	create, del := p.create[:min(len(p.create), maxPerSync)], p.delete[:min(len(p.delete), maxPerSync)]
	if len(create)+len(del) == 0 {
		return nil
	}
	c.expect.Expect(key, len(create), len(del))
	now := c.now()
	for _, pod := range p.failed {
		node, _ := targetNode(pod)
		c.failedBackoff.Next(backoffKey(ds, node), now)
		c.recorder.Eventf(ds, corev1.EventTypeWarning, "FailedDaemonPod", "Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, node)
	}
	template := &ds.Spec.Template // what cur records
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, node := range create {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.control.Create(ctx, newPod(ds, template, node, hash), ds); err != nil {
				c.expect.CreationObserved(key)
				if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					fail(err)
				}
			}
		}()
	}
	for _, pod := range del {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.control.Delete(ctx, pod, ds); err != nil {
				c.expect.DeletionObserved(key)
				if !apierrors.IsNotFound(err) {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newPod is the daemon pod for node, from the current revision's template.
func newPod(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node, hash string) *corev1.Pod {
	pod := podcontrol.NewPod(template, ds, podcontrol.ControllerRef(ds, kind))
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	addDaemonTolerations(&pod.Spec)
	pinToNode(&pod.Spec, node)
	return pod
}

func (c *Controller) updateStatus(ctx context.Context, shared, ds *appsv1.DaemonSet, nodes []nodeState, r rules) error {
	st := status(nodes, r)
	st.ObservedGeneration = ds.Generation
	st.CollisionCount = ds.Status.CollisionCount
	st.Conditions = ds.Status.Conditions
	if apiequality.Semantic.DeepEqual(st, shared.Status) {
		return nil
	}
	ds.Status = st
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}

// requeue returns when a ready pod becomes available under
// minReadySeconds, since no event marks that moment.
func (c *Controller) requeue(ds *appsv1.DaemonSet, pods []*corev1.Pod, now time.Time) time.Duration {
	var next time.Duration
	for _, p := range pods {
		if d := podcontrol.AvailableIn(p, ds.Spec.MinReadySeconds, now); d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}
