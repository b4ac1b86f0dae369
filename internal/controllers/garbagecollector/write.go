package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
)

// Every write names the uid and resourceVersion it was decided on, so that
// a concurrent change (a new owner, a recreated namesake) makes it fail
// with a conflict and the decision is made again.

// deleteObject deletes obj with the given propagation policy.
func deleteObject(ctx context.Context, client metadata.ResourceInterface, obj *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	err := client.Delete(ctx, obj.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &obj.UID, ResourceVersion: &obj.ResourceVersion},
		PropagationPolicy: &policy,
	})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("delete %s/%s: %w", obj.Namespace, obj.Name, err)
}

// patchOwners replaces obj's ownerReferences.
func patchOwners(ctx context.Context, client metadata.ResourceInterface, obj *metav1.PartialObjectMetadata, owners []metav1.OwnerReference) error {
	var refs any = owners
	if len(owners) == 0 {
		refs = nil
	}
	return patchMeta(ctx, client, obj, map[string]any{"ownerReferences": refs})
}

// removeFinalizer drops one finalizer from obj, if it still has it.
func removeFinalizer(ctx context.Context, client metadata.ResourceInterface, obj *metav1.PartialObjectMetadata, finalizer string) error {
	if !slices.Contains(obj.Finalizers, finalizer) {
		return nil
	}
	var fins any = slices.DeleteFunc(slices.Clone(obj.Finalizers), func(f string) bool { return f == finalizer })
	if len(fins.([]string)) == 0 {
		fins = nil
	}
	return patchMeta(ctx, client, obj, map[string]any{"finalizers": fins})
}

func patchMeta(ctx context.Context, client metadata.ResourceInterface, obj *metav1.PartialObjectMetadata, fields map[string]any) error {
	fields["uid"] = obj.UID
	fields["resourceVersion"] = obj.ResourceVersion
	data, err := json.Marshal(map[string]any{"metadata": fields})
	if err != nil {
		return err
	}
	_, err = client.Patch(ctx, obj.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("patch %s/%s: %w", obj.Namespace, obj.Name, err)
}

// absentCache remembers owners verified absent, so that many dependents of
// one deleted owner cost one lookup. Absence is permanent (uids are never
// reused), so entries never go stale; the cache is only bounded.
type absentCache struct {
	mu sync.Mutex
	m  map[objectRef]struct{}
}

const absentCacheSize = 1000

func newAbsentCache() *absentCache { return &absentCache{m: map[objectRef]struct{}{}} }

func (a *absentCache) has(r objectRef) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.m[r]
	return ok
}

func (a *absentCache) add(r objectRef) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) >= absentCacheSize {
		clear(a.m)
	}
	a.m[r] = struct{}{}
}
