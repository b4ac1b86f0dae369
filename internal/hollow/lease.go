package hollow

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// renew renews one node's Lease and schedules the next renewal.
func (c *Cluster) renew(ctx context.Context, name string) error {
	n := c.nodes[name]
	if !n.heartbeating() {
		return nil // ResumeHeartbeat renews again
	}
	if err := c.renewLease(ctx, n); err != nil {
		return err
	}
	c.queue.AddAfter(task{renewLease, name}, c.cfg.RenewInterval)
	return nil
}

// renewLease writes the Lease from the copy last written, as the kubelet
// does; on a conflict or a missing Lease it starts again from the API.
func (c *Cluster) renewLease(ctx context.Context, n *node) error {
	leases := c.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	n.mu.Lock()
	lease := c.leaseFor(n)
	n.mu.Unlock()
	if err := c.write(ctx); err != nil {
		return err
	}
	var out *coordinationv1.Lease
	var err error
	if lease.ResourceVersion == "" {
		out, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			out, err = c.refreshLease(ctx, n, lease)
		}
	} else {
		out, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			out, err = c.refreshLease(ctx, n, lease)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.lease = nil
		return err
	}
	n.lease = out
	return nil
}

// refreshLease reads the current Lease and writes ours over it.
func (c *Cluster) refreshLease(ctx context.Context, n *node, want *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	leases := c.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	cur, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		want.ResourceVersion = ""
		return leases.Create(ctx, want, metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	cur.Spec = want.Spec
	if len(want.OwnerReferences) > 0 {
		cur.OwnerReferences = want.OwnerReferences
	}
	if err := c.write(ctx); err != nil {
		return nil, err
	}
	return leases.Update(ctx, cur, metav1.UpdateOptions{})
}

// leaseFor is the Lease to write now; n.mu must be held.
func (c *Cluster) leaseFor(n *node) *coordinationv1.Lease {
	now := metav1.NewMicroTime(time.Now())
	if n.lease != nil {
		l := n.lease.DeepCopy()
		l.Spec.RenewTime = &now
		return l
	}
	secs := int32(c.cfg.LeaseDuration / time.Second)
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &n.name, LeaseDurationSeconds: &secs, RenewTime: &now},
	}
	if n.uid != "" {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: n.uid}}
	}
	return l
}
