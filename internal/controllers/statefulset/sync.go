package statefulset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/history"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// revisions are the set's current and update revisions and templates.
type revisions struct {
	all                             []*appsv1.ControllerRevision
	current, update                 *appsv1.ControllerRevision
	currentTemplate, updateTemplate *corev1.PodTemplateSpec
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	shared, err := c.sets.StatefulSets(ns).Get(name)
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
	set := shared.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		return controller.Result{}, controller.Terminal(fmt.Errorf("statefulset %s has an invalid or empty selector: %v", key, err))
	}
	m := &podcontrol.RefManager{Owner: set, GVK: kind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		}, set.UID)}
	revs, err := c.revisions(ctx, set, m)
	if err != nil {
		return controller.Result{}, err
	}
	v, err := c.view(ctx, set, m, revs)
	if err != nil {
		return controller.Result{}, err
	}
	var syncErr error
	if c.expect.Satisfied(key) {
		syncErr = c.execute(ctx, key, v, revs, plan(v))
	}
	if err := c.retainClaims(ctx, v); err != nil && syncErr == nil {
		syncErr = err
	}
	st := status(v)
	if err := c.truncate(ctx, v, revs, st.CurrentRevision); err != nil && syncErr == nil {
		syncErr = err
	}
	if err := c.updateStatus(ctx, shared, set, st); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{RequeueAfter: c.requeue(v)}, syncErr
}

// revisions records the template as the update revision and finds the
// current one (status.currentRevision, or the update revision for a new
// set or one whose current revision is gone).
func (c *Controller) revisions(ctx context.Context, set *appsv1.StatefulSet, m *podcontrol.RefManager) (*revisions, error) {
	all, err := c.history.List(ctx, m)
	if err != nil {
		return nil, err
	}
	data, err := history.Data(set)
	if err != nil {
		return nil, controller.Terminal(err)
	}
	if set.Status.CollisionCount == nil {
		set.Status.CollisionCount = new(int32)
	}
	owner := history.Owner{Object: set, Kind: kind, TemplateLabels: set.Spec.Template.Labels}
	update, err := c.history.Ensure(ctx, owner, all, data, set.Status.CollisionCount)
	if err != nil {
		return nil, err
	}
	r := &revisions{all: all, current: update, update: update, currentTemplate: &set.Spec.Template, updateTemplate: &set.Spec.Template}
	for _, rev := range all {
		if rev.Name == set.Status.CurrentRevision && rev.Name != update.Name {
			t, err := history.Template(rev.Data.Raw)
			if err != nil {
				break // unreadable: run the update revision everywhere
			}
			r.current, r.currentTemplate = rev, t
		}
	}
	return r, nil
}

// view claims the set's pods and arranges them by ordinal.
func (c *Controller) view(ctx context.Context, set *appsv1.StatefulSet, m *podcontrol.RefManager, revs *revisions) (*view, error) {
	all, err := c.pods.Pods(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	member := func(p *corev1.Pod) bool { _, ok := ordinalOf(set.Name, p.Name); return ok }
	pods, err := m.ClaimPods(ctx, c.client, all, member)
	if err != nil {
		return nil, err
	}
	v := &view{set: set, slots: map[int]*corev1.Pod{}, current: revs.current.Name, update: revs.update.Name, now: c.now()}
	for _, p := range pods {
		o, _ := ordinalOf(set.Name, p.Name)
		if inRange(set, o) {
			v.slots[o] = p
		} else {
			v.condemned = append(v.condemned, p)
		}
	}
	slices.SortFunc(v.condemned, func(a, b *corev1.Pod) int {
		oa, _ := ordinalOf(set.Name, a.Name)
		ob, _ := ordinalOf(set.Name, b.Name)
		return ob - oa
	})
	return v, nil
}

// execute carries out a step under expectations. Claims come before the
// pod that mounts them; a condemned pod's claims learn their retention
// before it goes.
func (c *Controller) execute(ctx context.Context, key string, v *view, revs *revisions, s step) error {
	if len(s.create)+len(s.delete) == 0 {
		return nil
	}
	set := v.set
	c.expect.Expect(key, len(s.create), len(s.delete))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, o := range s.create {
		run(func() error {
			t, rev := revs.updateTemplate, revs.update.Name
			if revisionFor(set, o) {
				t, rev = revs.currentTemplate, revs.current.Name
			}
			err := c.createClaims(ctx, set, o)
			if err == nil {
				err = c.createPod(ctx, set, newPod(set, t, rev, o))
			}
			if err != nil {
				c.expect.CreationObserved(key)
			}
			return err
		})
	}
	for _, p := range s.delete {
		run(func() error {
			if slices.Contains(s.failed, p) {
				c.recorder.Eventf(set, corev1.EventTypeWarning, "RecreatingFailedPod", "StatefulSet %s/%s is recreating failed Pod %s", set.Namespace, set.Name, p.Name)
			}
			var err error
			if slices.Contains(s.condemned, p) {
				err = c.condemnClaims(ctx, set, p)
			}
			if err == nil {
				err = c.deletePod(ctx, set, p)
			}
			if err != nil {
				c.expect.DeletionObserved(key)
			}
			return err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createPod and deletePod record upstream's StatefulSet event messages,
// which differ from other controllers' (hence not podcontrol.Control).
func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	_, err := c.client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil // made by an earlier sync the cache has not shown yet
	case err != nil:
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s", pod.Name, set.Name, err)
		}
		return fmt.Errorf("create pod %s/%s: %w", set.Namespace, pod.Name, err)
	}
	c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(set.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return nil // already gone (the name may hold its replacement)
	case err != nil:
		c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %s", pod.Name, set.Name, err)
		return fmt.Errorf("delete pod %s/%s: %w", set.Namespace, pod.Name, err)
	}
	c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// truncate deletes revisions beyond revisionHistoryLimit that are neither
// current, update, nor run by a pod.
func (c *Controller) truncate(ctx context.Context, v *view, revs *revisions, current string) error {
	inUse := map[string]bool{current: true, revs.current.Name: true, revs.update.Name: true}
	for _, p := range v.slots {
		inUse[p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
	}
	for _, p := range v.condemned {
		inUse[p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
	}
	limit := int32(10)
	if v.set.Spec.RevisionHistoryLimit != nil {
		limit = *v.set.Spec.RevisionHistoryLimit
	}
	return c.history.Truncate(ctx, revs.all, func(r *appsv1.ControllerRevision) bool { return inUse[r.Name] }, limit)
}

func (c *Controller) updateStatus(ctx context.Context, shared, set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) error {
	st.ObservedGeneration = set.Generation
	st.CollisionCount = set.Status.CollisionCount
	st.Conditions = set.Status.Conditions
	if apiequality.Semantic.DeepEqual(st, shared.Status) {
		return nil
	}
	set.Status = st
	if _, err := c.client.AppsV1().StatefulSets(set.Namespace).UpdateStatus(ctx, set, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status of statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}

// requeue returns when a ready pod becomes available under
// minReadySeconds, since no event marks that moment.
func (c *Controller) requeue(v *view) time.Duration {
	var next time.Duration
	for _, p := range v.slots {
		if d := podcontrol.AvailableIn(p, v.set.Spec.MinReadySeconds, v.now); d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}
