package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	cached, err := c.deployments.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	d := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("deployment %s: invalid selector: %w", key, err))
	}
	if sel.Empty() {
		c.recorder.Eventf(d, corev1.EventTypeWarning, reasonSelectingAll, "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, err := c.client.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
			return controller.Result{}, err
		}
		return controller.Result{}, nil
	}
	rsList, err := c.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return controller.Result{}, err
	}
	if d.DeletionTimestamp != nil {
		return controller.Result{}, c.syncStatusOnly(ctx, d, rsList)
	}
	if err := c.checkPaused(ctx, d); err != nil {
		return controller.Result{}, err
	}
	if d.Spec.Paused {
		return controller.Result{}, c.syncScale(ctx, d, rsList)
	}
	newRS, old := c.split(d, rsList)
	if scalingEvent(d, newRS, old) {
		return controller.Result{}, c.syncScale(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return c.rolloutRecreate(ctx, d, rsList)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// claimReplicaSets returns d's ReplicaSets, adopting matching orphans and
// releasing those that no longer match.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := podcontrol.Candidates[*appsv1.ReplicaSet](c.rsIndex, d.Namespace, d.UID)
	if err != nil {
		return nil, err
	}
	m := &podcontrol.RefManager{Owner: d, GVK: deploymentKind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		}, d.UID)}
	patch := func(ctx context.Context, ns, name string, data []byte) error {
		_, err := c.client.AppsV1().ReplicaSets(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
		return err
	}
	return podcontrol.Claim(ctx, m, all, patch)
}

// split finds the ReplicaSet whose template is d's (the oldest such, if
// several) and returns it (or nil) and all the others.
func (c *Controller) split(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	sorted := append([]*appsv1.ReplicaSet(nil), rsList...)
	byCreation(sorted)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// checkPaused sets Progressing to Unknown with DeploymentPaused or
// DeploymentResumed when d was paused or resumed, so that the paused time
// does not count against the progress deadline.
func (c *Controller) checkPaused(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(&d.Status, appsv1.DeploymentProgressing)
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	var next *appsv1.DeploymentCondition
	switch {
	case d.Spec.Paused && !pausedCond:
		c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", c.now())
		next = &c
	case !d.Spec.Paused && pausedCond:
		c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", c.now())
		next = &c
	default:
		return nil
	}
	setCondition(&d.Status, *next)
	return c.writeStatus(ctx, d)
}

// syncStatusOnly reports status without acting (d is being deleted).
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old := c.split(d, rsList)
	return c.syncStatus(ctx, d, append(old, nilSafe(newRS)...), newRS)
}

// syncScale handles a paused Deployment or a change of replicas: it only
// resizes the existing ReplicaSets, proportionally during a rollout.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, old); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, d, append(old, nilSafe(newRS)...), newRS)
}

// syncStatus writes d's status computed from its ReplicaSets, if changed.
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	st := calculateStatus(d, all, newRS, c.now())
	if equality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	return c.writeStatus(ctx, d)
}

// writeStatus writes d's status (and its revision annotation, which the
// status subresource accepts too) and keeps d current for the rest of the
// sync.
func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment) error {
	out, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	out.DeepCopyInto(d)
	return nil
}

func nilSafe(rs *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if rs == nil {
		return nil
	}
	return []*appsv1.ReplicaSet{rs}
}
