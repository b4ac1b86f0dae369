package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// rolloutRolling takes one step of a rolling update: grow the new
// ReplicaSet within maxSurge, else shrink old ones within maxUnavailable,
// else, once complete, clean up old revisions.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (controller.Result, error) {
	newRS, old, err := c.newAndOld(ctx, d, rsList, true)
	if err != nil {
		return controller.Result{}, err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	if target := c.newRSStep(d, all, newRS); target != rsReplicas(newRS) {
		if newRS, err = c.scaleRS(ctx, d, newRS, target, ""); err != nil {
			return controller.Result{}, err
		}
		return c.syncRolloutStatus(ctx, d, append(old, newRS), newRS)
	}
	sizes := oldScaleDown(d, all, active(old), newRS)
	if len(sizes) > 0 {
		for i, rs := range old {
			n, ok := sizes[rs.Name]
			if !ok || n == rsReplicas(rs) {
				continue
			}
			if old[i], err = c.scaleRS(ctx, d, rs, n, ""); err != nil {
				return controller.Result{}, err
			}
		}
		return c.syncRolloutStatus(ctx, d, append(old, newRS), newRS)
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return controller.Result{}, err
		}
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// newRSStep is the new ReplicaSet's size for this step: shrink it when it
// is above replicas, else grow it within maxSurge.
func (c *Controller) newRSStep(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	switch n := rsReplicas(newRS); {
	case n == replicas(d):
		return n
	case n > replicas(d):
		return replicas(d)
	}
	return newRSTarget(d, all, newRS)
}

// rolloutRecreate scales every old ReplicaSet to zero, waits until none of
// their pods runs, then creates the new one at full size.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (controller.Result, error) {
	newRS, old, err := c.newAndOld(ctx, d, rsList, false)
	if err != nil {
		return controller.Result{}, err
	}
	scaled := false
	for i, rs := range old {
		if rsReplicas(rs) == 0 {
			continue
		}
		if old[i], err = c.scaleRS(ctx, d, rs, 0, ""); err != nil {
			return controller.Result{}, err
		}
		scaled = true
	}
	if scaled || c.oldPodsRunning(newRS, old) {
		return c.syncRolloutStatus(ctx, d, append(old, nilSafe(newRS)...), newRS)
	}
	if newRS == nil {
		if newRS, old, err = c.newAndOld(ctx, d, rsList, true); err != nil {
			return controller.Result{}, err
		}
	}
	if rsReplicas(newRS) != replicas(d) {
		if newRS, err = c.scaleRS(ctx, d, newRS, replicas(d), ""); err != nil {
			return controller.Result{}, err
		}
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return controller.Result{}, err
		}
	}
	return c.syncRolloutStatus(ctx, d, append(old, newRS), newRS)
}

// oldPodsRunning: an old ReplicaSet still reports pods, or one of its pods
// (terminating ones included) has not finished.
func (c *Controller) oldPodsRunning(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) bool {
	for _, rs := range old {
		if rs.Status.Replicas > 0 {
			return true
		}
	}
	for _, rs := range old {
		if newRS != nil && rs.UID == newRS.UID {
			continue
		}
		pods, err := c.podIndex.ByIndex(podcontrol.ControllerIndex, string(rs.UID))
		if err != nil {
			return true
		}
		for _, o := range pods {
			p := o.(*corev1.Pod)
			if p.Namespace == rs.Namespace && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				return true
			}
		}
	}
	return false
}

// scale resizes d's ReplicaSets after a change of replicas (or while
// paused): the only active one takes the full size; a saturated new one
// leaves the old ones nothing; otherwise the change is spread in
// proportion.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if rs := activeOrLatest(newRS, old); rs != nil {
		if rsReplicas(rs) == replicas(d) && !replicasAnnotationsNeedUpdate(rs, replicas(d), replicas(d)+maxSurge(d)) {
			return nil
		}
		_, err := c.scaleRS(ctx, d, rs, replicas(d), "")
		return err
	}
	if saturated(d, newRS) {
		for _, rs := range active(old) {
			if _, err := c.scaleRS(ctx, d, rs, 0, ""); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	act := active(append(append([]*appsv1.ReplicaSet(nil), old...), nilSafe(newRS)...))
	sorted, sizes := proportionalSizes(d, act)
	op := ""
	switch toAdd := replicas(d) + maxSurge(d) - sumSpec(act); {
	case replicas(d) == 0 || toAdd < 0:
		op = "down"
	case toAdd > 0:
		op = "up"
	}
	for _, rs := range sorted {
		if _, err := c.scaleRS(ctx, d, rs, sizes[rs.Name], op); err != nil {
			return err
		}
	}
	return nil
}

// scaleRS sets rs's size and replicas annotations and records
// ScalingReplicaSet when the size changes. op overrides "up"/"down" in
// the event (proportional scaling names the Deployment's direction).
func (c *Controller) scaleRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, n int32, op string) (*appsv1.ReplicaSet, error) {
	resize := rsReplicas(rs) != n
	if !resize && !replicasAnnotationsNeedUpdate(rs, replicas(d), replicas(d)+maxSurge(d)) {
		return rs, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = &n
	setReplicasAnnotations(cp, replicas(d), replicas(d)+maxSurge(d))
	out, err := c.client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("scale replica set %s/%s to %d: %w", rs.Namespace, rs.Name, n, err)
	}
	if resize {
		if op == "" {
			op = "down"
			if rsReplicas(rs) < n {
				op = "up"
			}
		}
		c.recorder.Eventf(d, corev1.EventTypeNormal, reasonScalingRS, "Scaled %s replica set %s from %d to %d", op, rs.Name, rsReplicas(rs), n)
	}
	return out, nil
}

// cleanup deletes old ReplicaSets beyond revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	for _, rs := range toClean(d, old) {
		uid := rs.UID
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// syncRolloutStatus writes status with the Progressing condition and
// requeues d for its progress deadline while the rollout runs.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (controller.Result, error) {
	now := c.now()
	st := calculateStatus(d, all, newRS, now)
	progressCondition(d, newRS, &st, now)
	replicaFailure(&st, all)
	if !equality.Semantic.DeepEqual(d.Status, st) {
		d.Status = st
		if err := c.writeStatus(ctx, d); err != nil {
			return controller.Result{}, err
		}
	}
	return controller.Result{RequeueAfter: requeueAfter(d, &st, now)}, nil
}
