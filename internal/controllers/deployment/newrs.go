package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// newAndOld returns d's new ReplicaSet (creating it when create is set
// and there is none) and the old ones, and brings the new one's revision
// annotations and d's revision annotation up to date.
func (c *Controller) newAndOld(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing, old := c.split(d, rsList)
	rev := maxRevision(old) + 1
	if existing != nil {
		rs, err := c.syncExistingNew(ctx, d, existing, rev)
		return rs, old, err
	}
	if !create {
		return nil, old, nil
	}
	rs, err := c.createNew(ctx, d, old, rev)
	return rs, old, err
}

func (c *Controller) syncExistingNew(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, rev int64) (*appsv1.ReplicaSet, error) {
	cp := rs.DeepCopy()
	changed := setNewRSAnnotations(d, cp, rev, false)
	if cp.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		cp.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		changed = true
	}
	if changed {
		out, err := c.client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("update replica set %s/%s: %w", cp.Namespace, cp.Name, err)
		}
		cp = out
	}
	needsUpdate := setDeploymentRevision(d, cp.Annotations[RevisionAnnotation])
	if hasProgressDeadline(d) && getCondition(&d.Status, appsv1.DeploymentProgressing) == nil {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
			fmt.Sprintf("Found new replica set %q", cp.Name), c.now()))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// newReplicaSet builds the ReplicaSet for d's current template.
func newReplicaSet(d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev int64) *appsv1.ReplicaSet {
	tmpl := *d.Spec.Template.DeepCopy()
	hash := templateHash(&tmpl, d.Status.CollisionCount)
	tmpl.Labels = withLabel(tmpl.Labels, HashLabel, hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, HashLabel, hash)
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{*podcontrol.ControllerRef(d, deploymentKind)},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: tmpl},
	}
	n := newRSTarget(d, append(append([]*appsv1.ReplicaSet(nil), old...), rs), rs)
	rs.Spec.Replicas = &n
	setNewRSAnnotations(d, rs, rev, true)
	return rs
}

func (c *Controller) createNew(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev int64) (*appsv1.ReplicaSet, error) {
	want := newReplicaSet(d, old, rev)
	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, want, metav1.CreateOptions{})
	exists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		exists = true
		created, err = c.adoptExisting(ctx, d, want)
		if err != nil {
			return nil, err
		}
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", want.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonRSCreateError, msg, c.now()))
			_ = c.writeStatus(ctx, d) // the create error is what matters
		}
		c.recorder.Event(d, corev1.EventTypeWarning, ReasonRSCreateError, msg)
		return nil, err
	}
	if !exists && rsReplicas(created) > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, reasonScalingRS, "Scaled up replica set %s from 0 to %d", created.Name, rsReplicas(created))
	}
	needsUpdate := setDeploymentRevision(d, strconv.FormatInt(rev, 10))
	if !exists && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", created.Name), c.now()))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// adoptExisting handles a name already taken: it is ours when it is d's
// with d's template (our earlier create, not yet in the cache); otherwise
// the hash collided, and bumping collisionCount gives the next sync
// another name.
func (c *Controller) adoptExisting(ctx context.Context, d *appsv1.Deployment, want *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	rs, err := c.rss.ReplicaSets(want.Namespace).Get(want.Name)
	if apierrors.IsNotFound(err) {
		rs, err = c.client.AppsV1().ReplicaSets(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, err
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
		return rs, nil
	}
	n := int32(0)
	if d.Status.CollisionCount != nil {
		n = *d.Status.CollisionCount
	}
	n++
	d.Status.CollisionCount = &n
	if err := c.writeStatus(ctx, d); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("replica set %s/%s exists with another template (hash collision %d): retrying", want.Namespace, want.Name, n)
}
