package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// flush writes the status computed by this sync (the new uncounted pods
// first), then removes the tracking finalizer of uncounted pods and moves
// those that lost it into succeeded/failed. The order guarantees that a
// pod is counted once even if the controller stops at any point: until
// its finalizer is gone it is in uncountedTerminatedPods, after that in
// the counters, never in both.
func (c *Controller) flush(ctx context.Context, s *state, shared *batchv1.Job) (*batchv1.Job, error) {
	j := s.job
	if !apiequality.Semantic.DeepEqual(shared.Status, j.Status) {
		out, err := c.client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, j, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("update status of job %s: %w", s.key, err)
		}
		j = out
	}
	u := j.Status.UncountedTerminatedPods
	var targets []*corev1.Pod
	for _, p := range s.ignored {
		if hasFinalizer(p) && !c.removalPending(s.key, p.UID) {
			targets = append(targets, p)
		}
	}
	if u == nil || len(u.Succeeded)+len(u.Failed) == 0 {
		return j, c.removeFinalizers(ctx, s.key, targets)
	}
	byUID := map[types.UID]*corev1.Pod{}
	for _, p := range s.pods {
		byUID[p.UID] = p
	}
	for _, uid := range slices.Concat(u.Succeeded, u.Failed) {
		if p := byUID[uid]; p != nil && hasFinalizer(p) && !c.removalPending(s.key, uid) {
			targets = append(targets, p)
		}
	}
	rmErr := c.removeFinalizers(ctx, s.key, targets)
	counted := func(uid types.UID) bool {
		p := byUID[uid]
		return p == nil || !hasFinalizer(p) || c.removalPending(s.key, uid)
	}
	var succeeded, failed []types.UID
	for _, uid := range u.Succeeded {
		if !counted(uid) {
			succeeded = append(succeeded, uid)
		} else if s.done == nil {
			j.Status.Succeeded++ // Indexed Jobs count completed indexes instead
		}
	}
	for _, uid := range u.Failed {
		if !counted(uid) {
			failed = append(failed, uid)
		} else {
			j.Status.Failed++
		}
	}
	if len(succeeded) == len(u.Succeeded) && len(failed) == len(u.Failed) {
		return j, rmErr
	}
	j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: succeeded, Failed: failed}
	out, err := c.client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, j, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update status of job %s: %w", s.key, err)
	}
	return out, rmErr
}

func uncounted(u *batchv1.UncountedTerminatedPods, uid types.UID) bool {
	return slices.Contains(u.Succeeded, uid) || slices.Contains(u.Failed, uid)
}

func withFinalizer(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if hasFinalizer(p) {
			out = append(out, p)
		}
	}
	return out
}

// removeFinalizers removes the tracking finalizer of pods in parallel.
func (c *Controller) removeFinalizers(ctx context.Context, key string, pods []*corev1.Pod) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.removeFinalizer(ctx, key, p); err != nil && !apierrors.IsNotFound(err) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeFinalizer patches the tracking finalizer out of one pod. The
// patch names the pod's UID, so a newer pod of the same name is not hit.
func (c *Controller) removeFinalizer(ctx context.Context, key string, p *corev1.Pod) error {
	if !hasFinalizer(p) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"$deleteFromPrimitiveList/finalizers": []string{batchv1.JobTrackingFinalizer},
		"uid":                                 p.UID,
	}})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	switch {
	case err == nil:
		if key != "" {
			c.expectFinalizerRemoved(key, p.UID)
		}
		return nil
	case apierrors.IsInvalid(err):
		// The name holds another pod now: ours is gone.
		return apierrors.NewNotFound(corev1.Resource("pods"), p.Name)
	default:
		return fmt.Errorf("remove tracking finalizer of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
}

// syncOrphan removes the tracking finalizer of a pod whose Job is gone,
// finished or being deleted: nothing will count it any more.
func (c *Controller) syncOrphan(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	p, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil || !hasFinalizer(p) {
		return controller.Result{}, err
	}
	if ref := jobRef(p); ref != nil {
		// The cache may lag: ask the API whether the Job still counts it.
		j, err := c.client.BatchV1().Jobs(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case err == nil && j.UID == ref.UID && j.DeletionTimestamp == nil && !isFinished(&j.Status):
			c.loop.Add(ns + "/" + ref.Name)
			return controller.Result{}, nil
		case err != nil && !apierrors.IsNotFound(err):
			return controller.Result{}, fmt.Errorf("get job of orphan pod %s: %w", key, err)
		}
	}
	if err := c.removeFinalizer(ctx, "", p); err != nil && !apierrors.IsNotFound(err) {
		return controller.Result{}, err
	}
	return controller.Result{}, nil
}
