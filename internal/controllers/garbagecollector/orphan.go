package garbagecollector

import (
	"context"
	"errors"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// attemptToOrphan removes an owner deleted with the orphan policy from its
// dependents' ownerReferences, then removes its orphan finalizer so that
// the API server can delete it.
func (c *Controller) attemptToOrphan(ctx context.Context, uid types.UID) (result, error) {
	s, ok := c.graph.snapshot(uid)
	if !ok {
		return forget, nil
	}
	latest, client, err := c.getLive(ctx, s.identity)
	if err != nil || latest == nil {
		return forget, err
	}
	if latest.DeletionTimestamp == nil || !slices.Contains(latest.Finalizers, metav1.FinalizerOrphanDependents) {
		return forget, nil
	}
	var errs []error
	for _, d := range s.dependents {
		errs = append(errs, c.orphanDependent(ctx, d.uid, uid))
	}
	if err := errors.Join(errs...); err != nil {
		return forget, err
	}
	return forget, removeFinalizer(ctx, client, latest, metav1.FinalizerOrphanDependents)
}

// orphanDependent drops the reference to owner from one dependent.
func (c *Controller) orphanDependent(ctx context.Context, dep, owner types.UID) error {
	s, ok := c.graph.snapshot(dep)
	if !ok {
		return nil
	}
	latest, client, err := c.getLive(ctx, s.identity)
	if err != nil || latest == nil {
		return err
	}
	keep := slices.DeleteFunc(slices.Clone(latest.OwnerReferences), func(o metav1.OwnerReference) bool { return o.UID == owner })
	if len(keep) == len(latest.OwnerReferences) {
		return nil
	}
	return patchOwners(ctx, client, latest, keep)
}
