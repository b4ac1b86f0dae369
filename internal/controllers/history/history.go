package history

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// maxCollisions bounds the renaming loop of Ensure; each round needs a
// revision of another owner (or other data) squatting on the name.
const maxCollisions = 32

// History reads revisions from the shared informer cache and writes them
// through the API.
type History struct {
	Client kubernetes.Interface
	Lister appslisters.ControllerRevisionLister
}

// List returns the revisions m's owner controls, oldest first. Orphaned
// revisions matching m's selector are adopted (as upstream does after
// `kubectl delete --cascade=orphan` and a re-create) and owned ones that
// stopped matching are released.
func (h *History) List(ctx context.Context, m *podcontrol.RefManager) ([]*appsv1.ControllerRevision, error) {
	all, err := h.Lister.ControllerRevisions(m.Owner.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	patch := func(ctx context.Context, ns, name string, data []byte) error {
		_, err := h.Client.AppsV1().ControllerRevisions(ns).Patch(ctx, name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
		return err
	}
	out, err := podcontrol.Claim(ctx, m, all, patch)
	if err != nil {
		return nil, fmt.Errorf("claim revisions: %w", err)
	}
	Sort(out)
	return out, nil
}

// Sort orders revisions by revision number, then by name so that the
// order is total.
func Sort(revs []*appsv1.ControllerRevision) {
	slices.SortStableFunc(revs, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			if a.Revision < b.Revision {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
}

// NextRevision is one more than the highest revision number in revs.
func NextRevision(revs []*appsv1.ControllerRevision) int64 {
	var m int64
	for _, r := range revs {
		m = max(m, r.Revision)
	}
	return m + 1
}

// Ensure returns the revision of o holding data, making it the newest:
// an older revision with the same data is renumbered (as a rollback does
// upstream), otherwise a new one is created. A name taken by a different
// revision bumps *collisionCount and retries under the new hash; the
// caller persists the count in its status.
func (h *History) Ensure(ctx context.Context, o Owner, revs []*appsv1.ControllerRevision, data []byte, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	next := NextRevision(revs)
	for i := len(revs) - 1; i >= 0; i-- {
		if !Equal(revs[i].Data.Raw, data) {
			continue
		}
		if revs[i].Revision == next-1 {
			return revs[i], nil
		}
		return h.renumber(ctx, revs[i], next)
	}
	for range maxCollisions {
		cr := New(o, data, next, collisionCount)
		out, err := h.Client.AppsV1().ControllerRevisions(cr.Namespace).Create(ctx, cr, metav1.CreateOptions{})
		if err == nil {
			return out, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create revision %s: %w", cr.Name, err)
		}
		existing, err := h.Client.AppsV1().ControllerRevisions(cr.Namespace).Get(ctx, cr.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get revision %s: %w", cr.Name, err)
		}
		if ref := metav1.GetControllerOf(existing); ref != nil && ref.UID == o.Object.GetUID() && Equal(existing.Data.Raw, data) {
			// Ours, made by an earlier sync the cache has not shown yet.
			if existing.Revision < next-1 {
				return h.renumber(ctx, existing, next)
			}
			return existing, nil
		}
		if collisionCount == nil {
			return nil, fmt.Errorf("revision name %s is taken and there is no collision count to bump", cr.Name)
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("revision names of %s collided %d times", o.Object.GetName(), maxCollisions)
}

func (h *History) renumber(ctx context.Context, r *appsv1.ControllerRevision, revision int64) (*appsv1.ControllerRevision, error) {
	c := r.DeepCopy()
	c.Revision = revision
	out, err := h.Client.AppsV1().ControllerRevisions(c.Namespace).Update(ctx, c, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("renumber revision %s to %d: %w", r.Name, revision, err)
	}
	return out, nil
}

// Truncate deletes the oldest revisions beyond limit, never one that live
// reports in use (by a pod, or as the owner's current or update revision).
func (h *History) Truncate(ctx context.Context, revs []*appsv1.ControllerRevision, live func(*appsv1.ControllerRevision) bool, limit int32) error {
	for _, r := range Excess(revs, live, limit) {
		err := h.Client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &r.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete revision %s: %w", r.Name, err)
		}
	}
	return nil
}

// Excess returns the revisions Truncate deletes: the oldest of those not
// live, leaving at most limit of them.
func Excess(revs []*appsv1.ControllerRevision, live func(*appsv1.ControllerRevision) bool, limit int32) []*appsv1.ControllerRevision {
	var dead []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live(r) {
			dead = append(dead, r)
		}
	}
	n := len(dead) - int(max(limit, 0))
	if n <= 0 {
		return nil
	}
	sorted := slices.Clone(dead)
	Sort(sorted)
	return sorted[:n]
}
