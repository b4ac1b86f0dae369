package node

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// runLease renews the node's Lease every quarter of its duration (10 s for
// the default 40 s), retrying faster after a failure.
func (n *Node) runLease(ctx context.Context) {
	interval := n.cfg.LeaseDuration / 4
	for {
		wait := interval
		if err := n.renewLease(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("renew node lease", "err", err)
			wait = min(interval, time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (n *Node) renewLease(ctx context.Context) error {
	leases := n.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	cur, err := leases.Get(ctx, n.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.cfg.Name, Namespace: corev1.NamespaceNodeLease, OwnerReferences: n.owner()},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(n.cfg.Name),
				LeaseDurationSeconds: ptr.To(int32(n.cfg.LeaseDuration / time.Second)), RenewTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cur.Spec.HolderIdentity = ptr.To(n.cfg.Name)
	cur.Spec.LeaseDurationSeconds = ptr.To(int32(n.cfg.LeaseDuration / time.Second))
	cur.Spec.RenewTime = &now
	if len(cur.OwnerReferences) == 0 {
		cur.OwnerReferences = n.owner()
	}
	_, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// owner makes the Node own its Lease, so that deleting the Node collects
// the Lease.
func (n *Node) owner() []metav1.OwnerReference {
	n.mu.Lock()
	reg := n.registered
	n.mu.Unlock()
	if reg == nil || reg.UID == "" {
		return nil
	}
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: reg.Name, UID: reg.UID}}
}
