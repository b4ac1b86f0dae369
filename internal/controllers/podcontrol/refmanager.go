package podcontrol

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
)

// RefManager decides which objects belong to one controller owner, and
// fixes their ownerReferences so that the API agrees: it adopts orphans
// that match the selector and releases owned objects that no longer match.
// Objects controlled by another owner are never touched.
//
// Build one per sync; it is not meant to outlive the owner object it holds.
type RefManager struct {
	// Owner is the controller object, as last read.
	Owner metav1.Object
	// GVK is the owner's kind, for the ownerReference.
	GVK schema.GroupVersionKind
	// Selector chooses the owner's objects.
	Selector labels.Selector
	// CanAdopt, if set, runs once before the first adoption. An error
	// stops adoption (the claim returns it). Use RecheckOwner so that an
	// owner deleted or replaced since the cache saw it adopts nothing.
	CanAdopt func(ctx context.Context) error

	once     sync.Once
	adoptErr error
}

// PatchFunc applies a strategic merge patch to one object.
type PatchFunc func(ctx context.Context, namespace, name string, patch []byte) error

// RecheckOwner returns a CanAdopt that reads the owner afresh (get should
// bypass the informer cache) and refuses adoption when it is gone, has
// another UID, or is being deleted.
func RecheckOwner(get func(ctx context.Context) (metav1.Object, error), uid types.UID) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return fmt.Errorf("recheck owner before adoption: %w", err)
		}
		if fresh.GetUID() != uid {
			return fmt.Errorf("original %s/%s is gone: got uid %v, wanted %v", fresh.GetNamespace(), fresh.GetName(), fresh.GetUID(), uid)
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s/%s has just been deleted at %v", fresh.GetNamespace(), fresh.GetName(), fresh.GetDeletionTimestamp())
		}
		return nil
	}
}

// ClaimPods returns the pods that belong to the owner, adopting and
// releasing as needed. A pod is the owner's when the selector and every
// filter match it. Errors of individual patches are aggregated; the pods
// claimed so far are still returned.
func (m *RefManager) ClaimPods(ctx context.Context, client kubernetes.Interface, pods []*corev1.Pod, filters ...func(*corev1.Pod) bool) ([]*corev1.Pod, error) {
	patch := func(ctx context.Context, ns, name string, data []byte) error {
		_, err := client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
		return err
	}
	return Claim(ctx, m, pods, patch, filters...)
}

// Claim is ClaimPods for any kind of object (ControllerRevisions, PVCs).
func Claim[T metav1.Object](ctx context.Context, m *RefManager, objs []T, patch PatchFunc, filters ...func(T) bool) ([]T, error) {
	var claimed []T
	var errs []error
	for _, obj := range objs {
		ok, err := m.claimOne(ctx, obj, patch, func() bool {
			if !m.Selector.Matches(labels.Set(obj.GetLabels())) {
				return false
			}
			for _, f := range filters {
				if !f(obj) {
					return false
				}
			}
			return true
		})
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			claimed = append(claimed, obj)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (m *RefManager) claimOne(ctx context.Context, obj metav1.Object, patch PatchFunc, match func() bool) (bool, error) {
	ownerDeleting := m.Owner.GetDeletionTimestamp() != nil
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != m.Owner.GetUID() {
			return false, nil // someone else's
		}
		if match() {
			return true, nil
		}
		if ownerDeleting {
			// The garbage collector handles what a dying owner leaves.
			return false, nil
		}
		return false, m.release(ctx, obj, patch)
	}
	if ownerDeleting || !match() || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if err := m.adopt(ctx, obj, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil // gone before we got it
		}
		return false, err
	}
	return true, nil
}

func (m *RefManager) adopt(ctx context.Context, obj metav1.Object, patch PatchFunc) error {
	if m.CanAdopt != nil {
		m.once.Do(func() { m.adoptErr = m.CanAdopt(ctx) })
		if m.adoptErr != nil {
			return fmt.Errorf("can't adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), m.adoptErr)
		}
	}
	ref := ControllerRef(m.Owner, m.GVK)
	data, err := json.Marshal(refPatch{Metadata: refPatchMeta{UID: obj.GetUID(), OwnerReferences: []any{ref}}})
	if err != nil {
		return err
	}
	if err := patch(ctx, obj.GetNamespace(), obj.GetName(), data); err != nil {
		return fmt.Errorf("adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// release removes the owner's reference. The patch carries the object's
// UID, so it fails as Invalid when the name now belongs to a newer object;
// that and NotFound mean there is nothing left to release.
func (m *RefManager) release(ctx context.Context, obj metav1.Object, patch PatchFunc) error {
	del := map[string]any{"$patch": "delete", "uid": m.Owner.GetUID()}
	data, err := json.Marshal(refPatch{Metadata: refPatchMeta{UID: obj.GetUID(), OwnerReferences: []any{del}}})
	if err != nil {
		return err
	}
	err = patch(ctx, obj.GetNamespace(), obj.GetName(), data)
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return fmt.Errorf("release %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
}

type refPatch struct {
	Metadata refPatchMeta `json:"metadata"`
}

type refPatchMeta struct {
	OwnerReferences []any     `json:"ownerReferences"`
	UID             types.UID `json:"uid"`
}
