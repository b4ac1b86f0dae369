package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	rs, owner, err := c.kind.get(ns, name)
	if apierrors.IsNotFound(err) {
		c.exp.forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	// Read before listing: a pod observed after this point cannot make a
	// satisfied expectation look unsatisfied, only the reverse.
	needsSync := c.exp.Satisfied(key)
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("%s %s: invalid selector: %w", c.kind.gvk.Kind, key, err))
	}
	pods, err := c.claimPods(ctx, rs, sel)
	if err != nil {
		return controller.Result{}, err
	}
	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, pods, rs, owner)
	}
	now := c.now()
	st := calculateStatus(rs, pods, manageErr, now)
	if !statusEqual(rs.Status, st) {
		if err := c.kind.writeStatus(ctx, owner, st); err != nil {
			return controller.Result{}, errors.Join(manageErr, fmt.Errorf("update status of %s: %w", key, err))
		}
	}
	if manageErr != nil {
		return controller.Result{}, manageErr
	}
	return controller.Result{RequeueAfter: nextAvailable(pods, rs.Spec.MinReadySeconds, now)}, nil
}

// claimPods claims rs's active pods among those it controls and the
// orphans of its namespace.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, sel labels.Selector) ([]*corev1.Pod, error) {
	all, err := podcontrol.PodCandidates(c.podIndex, rs.Namespace, rs.UID)
	if err != nil {
		return nil, err
	}
	m := &podcontrol.RefManager{Owner: rs, GVK: c.kind.gvk, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.kind.fresh(ctx, rs.Namespace, rs.Name)
		}, rs.UID)}
	return m.ClaimPods(ctx, c.client.Client, podcontrol.FilterActive(all))
}

// manageReplicas creates or deletes pods to close the gap to replicas,
// at most BurstReplicas per sync.
func (c *Controller) manageReplicas(ctx context.Context, key string, pods []*corev1.Pod, rs *appsv1.ReplicaSet, owner podcontrol.Owner) error {
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		return c.createPods(ctx, key, min(-diff, BurstReplicas), rs, owner)
	case diff > 0:
		return c.deletePods(ctx, key, pods, min(diff, BurstReplicas), rs, owner)
	}
	return nil
}

func (c *Controller) createPods(ctx context.Context, key string, n int, rs *appsv1.ReplicaSet, owner podcontrol.Owner) error {
	// Expect all n before the first create: the informer may report a pod
	// before Create returns.
	c.exp.Expect(key, n, 0)
	ref := podcontrol.ControllerRef(rs, c.kind.gvk)
	done, err := podcontrol.SlowStart(ctx, n, 1, func(ctx context.Context) error {
		_, err := c.client.CreateFromTemplate(ctx, &rs.Spec.Template, owner, ref)
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil // nothing to do until the namespace is gone
		}
		return err
	})
	// Creations that never happened will never be observed.
	for range n - done {
		c.exp.CreationObserved(key)
	}
	return err
}

func (c *Controller) deletePods(ctx context.Context, key string, pods []*corev1.Pod, n int, rs *appsv1.ReplicaSet, owner podcontrol.Owner) error {
	victims := c.podsToDelete(pods, rs, n)
	podKeys := make([]string, len(victims))
	for i, p := range victims {
		podKeys[i] = p.Namespace + "/" + p.Name
	}
	c.exp.expectDeletions(key, podKeys)
	var wg sync.WaitGroup
	errs := make([]error, len(victims))
	for i, p := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.client.Delete(ctx, p, owner); err != nil {
				// A failed deletion will not be observed; a pod already
				// gone was observed or will be, but not as our delete.
				c.exp.deletionObserved(key, podKeys[i])
				if !apierrors.IsNotFound(err) {
					errs[i] = err
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// podsToDelete picks the n least valuable pods. Pods doubled up on a node
// with pods of sibling ReplicaSets (same controller, e.g. a Deployment's
// old and new) rank first, so a rollout leaves the spread intact.
func (c *Controller) podsToDelete(pods []*corev1.Pod, rs *appsv1.ReplicaSet, n int) []*corev1.Pod {
	related := c.relatedPods(rs, pods)
	sorted := append([]*corev1.Pod(nil), pods...)
	podcontrol.SortForDeletion(sorted, podcontrol.RanksByNode(sorted, related))
	return sorted[:n]
}

// relatedPods returns the active pods of every owner in the namespace that
// shares rs's controller, including rs's own.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet, own []*corev1.Pod) []*corev1.Pod {
	ctl := metav1.GetControllerOfNoCopy(rs)
	if ctl == nil {
		return own
	}
	siblings, err := c.ownerIndex.ByIndex(podcontrol.ControllerIndex, string(ctl.UID))
	if err != nil {
		return own
	}
	var out []*corev1.Pod
	for _, s := range siblings {
		m, err := meta.Accessor(s)
		if err != nil || m.GetNamespace() != rs.Namespace {
			continue
		}
		pods, err := c.podIndex.ByIndex(podcontrol.ControllerIndex, string(m.GetUID()))
		if err != nil {
			continue
		}
		for _, p := range pods {
			if pod := p.(*corev1.Pod); pod.Namespace == rs.Namespace && podcontrol.IsActive(pod) {
				out = append(out, pod)
			}
		}
	}
	return out
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// nextAvailable is when the first ready-but-not-yet-available pod becomes
// available: no watch event marks that moment, so the sync requeues itself.
func nextAvailable(pods []*corev1.Pod, minReady int32, now time.Time) time.Duration {
	var next time.Duration
	for _, p := range pods {
		if d := podcontrol.AvailableIn(p, minReady, now); d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}

// retryStatus runs write, retrying once on a conflict with a fresh read.
func retryStatus(ctx context.Context, write func(fresh bool) error) error {
	err := write(false)
	if apierrors.IsConflict(err) && ctx.Err() == nil {
		err = write(true)
	}
	return err
}
