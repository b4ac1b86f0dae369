package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/storage"
)

// Finalizers the store adds for the propagation policies.
const (
	FinalizerOrphan     = metav1.FinalizerOrphanDependents
	FinalizerForeground = metav1.FinalizerDeleteDependents
)

// Delete removes an object, or marks it for deletion when finalizers or a
// grace period must run first. It returns the object as last stored.
func (st *Store) Delete(ctx context.Context, ns, name string, opts DeleteOptions) (runtime.Object, bool, error) {
	key := st.key(ns, name)
	cur, err := st.read(ctx, key, name)
	if err != nil {
		return nil, false, err
	}
	for attempt := 0; ; attempt++ {
		out, gone, next, err := st.tryDelete(ctx, key, cur, opts)
		if err == nil || next == nil || attempt >= maxUpdateAttempts {
			return out, gone, err
		}
		cur = next
	}
}

// tryDelete makes one attempt; gone reports a finished deletion.
func (st *Store) tryDelete(ctx context.Context, key string, cur *current, opts DeleteOptions) (runtime.Object, bool, *current, error) {
	acc, _ := meta.Accessor(cur.obj)
	if err := st.checkPreconditions(acc, cur.rev, opts); err != nil {
		return nil, false, nil, err
	}
	obj := cur.obj.DeepCopyObject()
	acc, _ = meta.Accessor(obj)
	grace := st.gracePeriod(obj, opts)
	fins := withPropagation(acc.GetFinalizers(), opts.Propagation)
	if len(fins) == 0 && grace == 0 && !isNamespace(obj) {
		out, next, err := st.finishDeletion(ctx, key, cur, WriteOptions{DryRun: opts.DryRun})
		return out, err == nil, next, err
	}
	if acc.GetDeletionTimestamp() != nil && !shortensGrace(acc, grace) && slices.Equal(fins, acc.GetFinalizers()) {
		return obj, false, nil, nil
	}
	markDeleted(obj, acc, grace, fins)
	if opts.DryRun {
		return obj, false, nil, nil
	}
	data, err := st.encode(obj)
	if err != nil {
		return nil, false, nil, apierrors.NewInternalError(err)
	}
	kv, err := st.s.Update(ctx, key, data, cur.rev)
	if err != nil {
		return nil, false, st.retryState(err, kv), ToAPI(err, st.gr, acc.GetName())
	}
	acc.SetResourceVersion(rvString(kv.ModRevision))
	return obj, false, nil, nil
}

// finishDeletion removes the key, releasing any claims with it.
func (st *Store) finishDeletion(ctx context.Context, key string, cur *current, opts WriteOptions) (runtime.Object, *current, error) {
	obj := cur.obj.DeepCopyObject()
	acc, _ := meta.Accessor(obj)
	if opts.DryRun {
		return obj, nil, nil
	}
	var ops []storage.Op
	if alloc, ok := st.res.Strategy.(registry.Allocator); ok {
		ops = claimOps(nil, alloc.Claims(cur.obj), key)
	}
	kv, err := st.s.Delete(ctx, key, cur.rev, ops...)
	if err != nil {
		return nil, st.retryState(err, kv), ToAPI(err, st.gr, acc.GetName())
	}
	acc.SetResourceVersion(rvString(kv.ModRevision))
	return obj, nil, nil
}

func (st *Store) checkPreconditions(acc metav1.Object, rev int64, opts DeleteOptions) error {
	if opts.PreconditionUID != nil && *opts.PreconditionUID != string(acc.GetUID()) {
		return apierrors.NewConflict(st.gr, acc.GetName(), fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *opts.PreconditionUID, acc.GetUID()))
	}
	if opts.PreconditionRV != nil && *opts.PreconditionRV != rvString(rev) {
		return apierrors.NewConflict(st.gr, acc.GetName(), fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *opts.PreconditionRV, rev))
	}
	return nil
}

// gracePeriod returns how long the object lingers before removal. Only pods
// that a node agent is running get a grace period: the agent stops the
// containers and then deletes the pod with grace 0.
func (st *Store) gracePeriod(obj runtime.Object, opts DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	if pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds < grace {
		grace = *pod.DeletionGracePeriodSeconds
	}
	return max(grace, 0)
}

func shortensGrace(acc metav1.Object, grace int64) bool {
	cur := acc.GetDeletionGracePeriodSeconds()
	return cur != nil && grace < *cur
}

// withPropagation adds the finalizer a propagation policy asks for.
func withPropagation(fins []string, policy string) []string {
	out := slices.Clone(fins)
	add := func(f string) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	switch metav1.DeletionPropagation(policy) {
	case metav1.DeletePropagationOrphan:
		add(FinalizerOrphan)
	case metav1.DeletePropagationForeground:
		add(FinalizerForeground)
	}
	return out
}

func markDeleted(obj runtime.Object, acc metav1.Object, grace int64, fins []string) {
	if acc.GetDeletionTimestamp() == nil || shortensGrace(acc, grace) {
		ts := metav1.NewTime(time.Now().Add(time.Duration(grace) * time.Second))
		acc.SetDeletionTimestamp(&ts)
		acc.SetDeletionGracePeriodSeconds(&grace)
		if acc.GetGeneration() > 0 {
			acc.SetGeneration(acc.GetGeneration() + 1)
		}
	}
	acc.SetFinalizers(fins)
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}

func isNamespace(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}
