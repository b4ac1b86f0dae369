package store

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/storage"
)

// maxClaimAttempts bounds the retries when an allocated value loses a race.
const maxClaimAttempts = 16

// Create stores a new object. obj is owned by the store from here on.
func (st *Store) Create(ctx context.Context, ns string, obj runtime.Object, opts WriteOptions) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if err := st.checkNamespace(acc, ns); err != nil {
		return nil, err
	}
	if acc.GetResourceVersion() != "" {
		return nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	if acc.GetName() == "" && acc.GetGenerateName() != "" {
		acc.SetName(generateName(acc.GetGenerateName()))
	}
	st.prepareCreate(ctx, obj, acc)
	if errs := st.res.Strategy.Validate(ctx, obj); len(errs) > 0 {
		return nil, apierrors.NewInvalid(st.res.GVK().GroupKind(), acc.GetName(), errs)
	}
	if st.res.Namespaced && st.nsCheck != nil {
		if err := st.nsCheck(ctx, acc.GetNamespace(), st.gr, acc.GetName()); err != nil {
			return nil, err
		}
	}
	return st.createWithClaims(ctx, obj, acc, opts)
}

func (st *Store) checkNamespace(acc metav1.Object, ns string) error {
	if !st.res.Namespaced {
		acc.SetNamespace("")
		return nil
	}
	switch {
	case acc.GetNamespace() == "":
		acc.SetNamespace(ns)
	case ns != "" && acc.GetNamespace() != ns:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if acc.GetNamespace() == "" {
		return apierrors.NewBadRequest("a namespace must be specified for namespaced resource " + st.res.Resource)
	}
	return nil
}

// prepareCreate sets the server-owned metadata, then lets the strategy
// default the object and set its own fields.
func (st *Store) prepareCreate(ctx context.Context, obj runtime.Object, acc metav1.Object) {
	acc.SetUID(uuid.NewUUID())
	acc.SetCreationTimestamp(metav1.Now())
	acc.SetDeletionTimestamp(nil)
	acc.SetDeletionGracePeriodSeconds(nil)
	acc.SetGeneration(0)
	if generationTracked[st.res.Resource] {
		acc.SetGeneration(1)
	}
	if st.res.HasStatus && !keepsStatusOnCreate[st.res.Resource] {
		clearField(obj, "Status")
	}
	st.res.Strategy.Default(obj)
	st.res.Strategy.PrepareForCreate(ctx, obj)
}

// keepsStatusOnCreate lists resources whose creator also reports status,
// as a node agent registering its Node does.
var keepsStatusOnCreate = map[string]bool{"nodes": true}

func (st *Store) createWithClaims(ctx context.Context, obj runtime.Object, acc metav1.Object, opts WriteOptions) (runtime.Object, error) {
	alloc, _ := st.res.Strategy.(registry.Allocator)
	taken := map[string]bool{}
	for attempt := 0; ; attempt++ {
		target := obj
		var ops []storage.Op
		if alloc != nil {
			target = obj.DeepCopyObject()
			keys, ferr := alloc.Allocate(target, nil, taken)
			if ferr != nil {
				return nil, apierrors.NewInvalid(st.res.GVK().GroupKind(), acc.GetName(), field.ErrorList{ferr})
			}
			ops = claimOps(keys, nil, st.key(acc.GetNamespace(), acc.GetName()))
		}
		if opts.DryRun {
			return target, nil
		}
		out, err := st.write(ctx, target, ops)
		var ce *storage.ClaimError
		if errors.As(err, &ce) && attempt < maxClaimAttempts {
			for _, k := range ce.Keys {
				taken[k] = true
			}
			continue
		}
		if err != nil {
			return nil, ToAPI(err, st.gr, acc.GetName())
		}
		return out, nil
	}
}

// write stores a new object. Its errors are storage classes, untranslated,
// so that the caller can tell a lost claim from other failures.
func (st *Store) write(ctx context.Context, obj runtime.Object, ops []storage.Op) (runtime.Object, error) {
	acc, _ := meta.Accessor(obj)
	data, err := st.encode(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	kv, err := st.s.Create(ctx, st.key(acc.GetNamespace(), acc.GetName()), data, ops...)
	if err != nil {
		return nil, err
	}
	acc.SetResourceVersion(rvString(kv.ModRevision))
	return obj, nil
}

// claimOps turns the claim keys of the new and old state into storage ops:
// claims for new keys, releases for keys no longer held.
func claimOps(now, before []string, owner string) []storage.Op {
	held := make(map[string]bool, len(before))
	for _, k := range before {
		held[k] = true
	}
	var ops []storage.Op
	keep := make(map[string]bool, len(now))
	for _, k := range now {
		keep[k] = true
		if !held[k] {
			ops = append(ops, storage.Op{Key: k, Value: []byte(owner)})
		}
	}
	for _, k := range before {
		if !keep[k] {
			ops = append(ops, storage.Op{Key: k, Release: true})
		}
	}
	return ops
}
