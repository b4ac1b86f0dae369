package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/storage"
)

// maxUpdateAttempts bounds retries of an unconditional update that keeps
// losing compare-and-swap races.
const maxUpdateAttempts = 32

// current is a decoded object together with the revision it was read at.
type current struct {
	obj runtime.Object
	rev int64
	// raw is the stored encoding; nil when obj came from the watch cache,
	// in which case it is computed only if a no-op check needs it.
	raw []byte
	// cached marks state read from the watch cache, which may lag etcd.
	cached bool
}

// Update implements Interface.
func (st *Store) Update(ctx context.Context, ns, name string, fn UpdateFunc, opts WriteOptions) (runtime.Object, error) {
	key := st.key(ns, name)
	cur, err := st.readCached(ctx, key, name)
	if err != nil {
		return nil, err
	}
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		out, next, err := st.tryUpdate(ctx, key, cur, fn, opts)
		if errors.Is(err, errStaleCache) {
			next, err = st.read(ctx, key, name)
		}
		if next == nil {
			return out, err
		}
		cur = next
	}
	return nil, st.conflict(name)
}

// errStaleCache asks Update to re-read from etcd: the client named a
// resourceVersion the cache has not caught up with yet.
var errStaleCache = errors.New("watch cache behind the requested resourceVersion")

// tryUpdate makes one attempt. It returns a non-nil next state when the
// attempt lost a race that a retry may win.
func (st *Store) tryUpdate(ctx context.Context, key string, cur *current, fn UpdateFunc, opts WriteOptions) (runtime.Object, *current, error) {
	old := cur.obj
	obj, err := fn(ctx, old.DeepCopyObject())
	if err != nil {
		return nil, nil, err
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, apierrors.NewBadRequest(err.Error())
	}
	oldAcc, _ := meta.Accessor(old)
	explicitRV := acc.GetResourceVersion()
	if explicitRV != "" && explicitRV != rvString(cur.rev) {
		if cur.cached {
			return nil, nil, errStaleCache
		}
		return nil, nil, st.conflict(oldAcc.GetName())
	}
	acc.SetResourceVersion(rvString(cur.rev))
	if err := st.prepareUpdate(ctx, obj, old, acc, oldAcc, opts.Subresource); err != nil {
		return nil, nil, err
	}
	// A namespace whose spec.finalizers are not done yet (its content is
	// still being deleted) stays, as upstream's namespace store keeps it.
	if len(acc.GetFinalizers()) == 0 && acc.GetDeletionTimestamp() != nil && opts.Subresource != Status && !isNamespace(obj) {
		return st.finishDeletion(ctx, key, cur, opts)
	}
	ops, ferr := st.updateClaims(obj, old, key)
	if ferr != nil {
		return nil, nil, apierrors.NewInvalid(st.res.GVK().GroupKind(), oldAcc.GetName(), field.ErrorList{ferr})
	}
	data, err := st.encode(obj)
	if err != nil {
		return nil, nil, apierrors.NewInternalError(err)
	}
	// A binding always sets the empty spec.nodeName, so it is never a
	// no-op, and encoding the old pod to find out would be wasted.
	if cur.raw == nil && opts.Subresource != Binding {
		if cur.raw, err = st.encode(old); err != nil {
			return nil, nil, apierrors.NewInternalError(err)
		}
	}
	if (cur.raw != nil && bytes.Equal(data, cur.raw)) || opts.DryRun {
		acc.SetResourceVersion(rvString(cur.rev))
		return obj, nil, nil
	}
	kv, err := st.s.Update(ctx, key, data, cur.rev, ops...)
	if err == nil {
		acc.SetResourceVersion(rvString(kv.ModRevision))
		return obj, nil, nil
	}
	return nil, st.retryState(err, kv), ToAPI(err, st.gr, oldAcc.GetName())
}

// retryState decides whether a failed write may be retried, and from what.
// A lost compare-and-swap is always retried from the state etcd returned:
// fn runs again, and if the object it returns names a resourceVersion that
// is no longer current, that attempt answers 409 Conflict.
func (st *Store) retryState(err error, kv storage.KeyValue) *current {
	var ce *storage.ClaimError
	if !errors.Is(err, storage.ErrConflict) || errors.As(err, &ce) || kv.Value == nil {
		return nil
	}
	next, derr := st.decode(kv)
	if derr != nil {
		return nil
	}
	return &current{obj: next, rev: kv.ModRevision, raw: kv.Value}
}

func (st *Store) conflict(name string) error {
	return apierrors.NewConflict(st.gr, name, fmt.Errorf("%s", registryConflictMsg))
}

// prepareUpdate restores server-owned metadata, applies the spec/status
// split of the subresource, defaults and validates.
func (st *Store) prepareUpdate(ctx context.Context, obj, old runtime.Object, acc, oldAcc metav1.Object, sub Subresource) error {
	if acc.GetName() != oldAcc.GetName() || (st.res.Namespaced && acc.GetNamespace() != "" && acc.GetNamespace() != oldAcc.GetNamespace()) {
		return apierrors.NewBadRequest("the name or namespace of the object provided does not match the request")
	}
	if acc.GetUID() != "" && acc.GetUID() != oldAcc.GetUID() {
		return apierrors.NewConflict(st.gr, oldAcc.GetName(), fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", acc.GetUID(), oldAcc.GetUID()))
	}
	acc.SetNamespace(oldAcc.GetNamespace())
	acc.SetUID(oldAcc.GetUID())
	acc.SetCreationTimestamp(oldAcc.GetCreationTimestamp())
	acc.SetDeletionTimestamp(oldAcc.GetDeletionTimestamp())
	acc.SetDeletionGracePeriodSeconds(oldAcc.GetDeletionGracePeriodSeconds())
	acc.SetGeneration(oldAcc.GetGeneration())
	if sub == Status {
		return st.prepareStatusUpdate(ctx, obj, old, acc, oldAcc)
	}
	if sub == Binding {
		// The binding handler changed only nodeName, annotations and the
		// PodScheduled condition of the current object.
		st.res.Strategy.Default(obj)
		return nil
	}
	if st.res.HasStatus {
		copyField(obj, old, "Status")
	}
	st.res.Strategy.Default(obj)
	if sub == Finalize {
		// The strategy's PrepareForUpdate protects spec.finalizers from
		// the main resource; /finalize is the one writer allowed.
		if errs := st.res.Strategy.ValidateUpdate(ctx, obj, old); len(errs) > 0 {
			return apierrors.NewInvalid(st.res.GVK().GroupKind(), oldAcc.GetName(), errs)
		}
		return nil
	}
	st.res.Strategy.PrepareForUpdate(ctx, obj, old)
	if generationTracked[st.res.Resource] && specChanged(obj, old) {
		acc.SetGeneration(oldAcc.GetGeneration() + 1)
	}
	if errs := st.res.Strategy.ValidateUpdate(ctx, obj, old); len(errs) > 0 {
		return apierrors.NewInvalid(st.res.GVK().GroupKind(), oldAcc.GetName(), errs)
	}
	return nil
}

// prepareStatusUpdate keeps everything but status (and labels and
// annotations, which status writers such as node agents may touch).
func (st *Store) prepareStatusUpdate(ctx context.Context, obj, old runtime.Object, acc, oldAcc metav1.Object) error {
	copyField(obj, old, "Spec")
	acc.SetFinalizers(oldAcc.GetFinalizers())
	acc.SetOwnerReferences(oldAcc.GetOwnerReferences())
	if sv, ok := st.res.Strategy.(registry.StatusValidator); ok {
		if errs := sv.ValidateStatusUpdate(ctx, obj, old); len(errs) > 0 {
			return apierrors.NewInvalid(st.res.GVK().GroupKind(), oldAcc.GetName(), errs)
		}
	}
	return nil
}

func (st *Store) updateClaims(obj, old runtime.Object, key string) ([]storage.Op, *field.Error) {
	alloc, ok := st.res.Strategy.(registry.Allocator)
	if !ok {
		return nil, nil
	}
	taken := map[string]bool{}
	keys, ferr := alloc.Allocate(obj, old, taken)
	if ferr != nil {
		return nil, ferr
	}
	return claimOps(keys, alloc.Claims(old), key), nil
}

// readCached returns the current object from the watch cache, or from
// etcd when the cache does not have it (it may not have seen a create yet).
// A stale cached state costs one lost compare-and-swap, never a wrong write.
func (st *Store) readCached(ctx context.Context, key, name string) (*current, error) {
	if e, _, err := st.cache.Get(key); err == nil {
		return &current{obj: e.Object.DeepCopyObject(), rev: e.Rev, cached: true}, nil
	}
	return st.read(ctx, key, name)
}

// read returns the current object from etcd, with its raw bytes so that a
// no-op update is detected without writing.
func (st *Store) read(ctx context.Context, key, name string) (*current, error) {
	kv, err := st.s.Get(ctx, key)
	if err != nil {
		return nil, ToAPI(err, st.gr, name)
	}
	obj, err := st.decode(kv)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return &current{obj: obj, rev: kv.ModRevision, raw: kv.Value}, nil
}
