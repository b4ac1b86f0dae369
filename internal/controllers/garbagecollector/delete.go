package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
)

// errInvalidOwner: a cluster-scoped object names a namespaced owner, which
// can never resolve; retrying would not help.
var errInvalidOwner = errors.New("cluster-scoped object with a namespaced owner")

// attemptToDelete decides about one node: delete it if all its owners are
// gone or deleting their dependents, drop references to owners that are
// gone, or finish a foreground deletion whose dependents are gone.
func (c *Controller) attemptToDelete(ctx context.Context, uid types.UID) (result, error) {
	s, ok := c.graph.snapshot(uid)
	if !ok {
		return forget, nil
	}
	// Deletion is a one-way trip: once the object is gone its dependents
	// are looked at again.
	if s.beingDeleted && !s.deletingDependents {
		return forget, nil
	}
	latest, client, err := c.getLive(ctx, s.identity)
	if errors.Is(err, errInvalidOwner) {
		return forget, nil
	}
	if err != nil {
		return forget, err
	}
	if latest == nil {
		// Gone (or replaced by a namesake): tell the graph, which queues
		// the dependents.
		c.changes.Add(&change{kind: virtualDelete, ref: s.identity})
		return forget, nil
	}
	if s.deletingDependents && isDeletingDependents(latest) {
		return forget, c.processDeletingDependents(ctx, s, latest, client)
	}
	res, err := c.collect(ctx, s, latest, client)
	if err == nil && res == forget && s.virtual {
		// Verified to exist, but not seen by an informer yet: look again
		// until it is, so a virtual node cannot linger.
		return requeue, nil
	}
	return res, err
}

// collect acts on an object according to the state of its owners.
func (c *Controller) collect(ctx context.Context, s snapshot, latest *metav1.PartialObjectMetadata, client metadata.ResourceInterface) (result, error) {
	owners := latest.OwnerReferences
	if len(owners) == 0 {
		return forget, nil
	}
	solid, dangling, waiting, err := c.classify(ctx, latest, owners)
	if err != nil {
		return forget, err
	}
	switch {
	case len(solid) > 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return forget, nil
		}
		// Some owner still holds the object: only drop the references to
		// owners that are gone or waiting for it to go.
		drop := append(uids(dangling), uids(waiting)...)
		keep := slices.DeleteFunc(slices.Clone(owners), func(o metav1.OwnerReference) bool { return slices.Contains(drop, o.UID) })
		return forget, patchOwners(ctx, client, latest, keep)
	case len(waiting) > 0 && len(s.dependents) > 0:
		if slices.ContainsFunc(s.dependents, func(d dependent) bool { return d.deletingDependents }) {
			// Its owner waits for it and a dependent waits for its own
			// dependents: unblock the owners to break a possible cycle.
			if err := patchOwners(ctx, client, latest, unblock(owners, uids(waiting))); err != nil {
				return forget, err
			}
		}
		// Its own dependents must go before it, as the owner waiting for
		// it asked.
		return forget, deleteObject(ctx, client, latest, metav1.DeletePropagationForeground)
	default:
		return forget, deleteObject(ctx, client, latest, policyOf(latest))
	}
}

// policyOf keeps the propagation an object's own finalizers ask for.
func policyOf(obj *metav1.PartialObjectMetadata) metav1.DeletionPropagation {
	switch {
	case slices.Contains(obj.Finalizers, metav1.FinalizerOrphanDependents):
		return metav1.DeletePropagationOrphan
	case slices.Contains(obj.Finalizers, metav1.FinalizerDeleteDependents):
		return metav1.DeletePropagationForeground
	}
	return metav1.DeletePropagationBackground
}

// processDeletingDependents finishes a foreground deletion once no
// dependent blocks it, and otherwise makes sure the blockers are deleted.
func (c *Controller) processDeletingDependents(ctx context.Context, s snapshot, latest *metav1.PartialObjectMetadata, client metadata.ResourceInterface) error {
	blocking := s.blocking()
	if len(blocking) == 0 {
		return removeFinalizer(ctx, client, latest, metav1.FinalizerDeleteDependents)
	}
	for _, d := range s.dependents {
		if d.blocking && !d.deletingDependents {
			c.toDelete.Add(d.uid)
		}
	}
	return nil
}

func isDeletingDependents(obj *metav1.PartialObjectMetadata) bool {
	return obj.DeletionTimestamp != nil && slices.Contains(obj.Finalizers, metav1.FinalizerDeleteDependents)
}

// classify sorts an object's owners into those that exist (solid), those
// that are gone (dangling) and those deleting their dependents in the
// foreground (waiting).
func (c *Controller) classify(ctx context.Context, item *metav1.PartialObjectMetadata, owners []metav1.OwnerReference) (solid, dangling, waiting []metav1.OwnerReference, err error) {
	for _, o := range owners {
		gone, deletingDeps, err := c.ownerGone(ctx, item.Namespace, o)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case gone:
			dangling = append(dangling, o)
		case deletingDeps:
			waiting = append(waiting, o)
		default:
			solid = append(solid, o)
		}
	}
	return solid, dangling, waiting, nil
}

// ownerGone looks an owner up: in the graph when an informer has seen it
// in the right namespace, else in the API (remembering absences).
func (c *Controller) ownerGone(ctx context.Context, ns string, o metav1.OwnerReference) (gone, deletingDeps bool, err error) {
	res, err := c.mapper.lookup(o.APIVersion, o.Kind)
	if err != nil {
		return false, false, err
	}
	ownerNS := ""
	if res.namespaced {
		if ns == "" {
			return false, false, errInvalidOwner
		}
		ownerNS = ns
	}
	ref := refFromOwner(o, ownerNS)
	if c.absent.has(ref) {
		return true, false, nil
	}
	if observed, deleting, ident := c.graph.ownerState(o.UID); observed && ident.Namespace == ownerNS {
		return false, deleting, nil
	}
	owner, err := c.md.Resource(res.gvr).Namespace(ownerNS).Get(ctx, o.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		c.absent.add(ref)
		return true, false, nil
	case err != nil:
		return false, false, fmt.Errorf("look up owner %s: %w", ref, err)
	case owner.UID != o.UID:
		c.absent.add(ref)
		return true, false, nil
	}
	return false, isDeletingDependents(owner), nil
}

// getLive reads an object from the API. It returns nil when the object
// is gone or its name now belongs to another object.
func (c *Controller) getLive(ctx context.Context, ref objectRef) (*metav1.PartialObjectMetadata, metadata.ResourceInterface, error) {
	res, err := c.mapper.lookup(ref.APIVersion, ref.Kind)
	if err != nil {
		return nil, nil, err
	}
	ns := ref.Namespace
	if !res.namespaced {
		ns = ""
	} else if ns == "" {
		return nil, nil, errInvalidOwner
	}
	client := c.md.Resource(res.gvr).Namespace(ns)
	obj, err := client.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, client, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", ref, err)
	}
	if obj.UID != ref.UID {
		return nil, client, nil
	}
	return obj, client, nil
}

func uids(refs []metav1.OwnerReference) []types.UID {
	out := make([]types.UID, len(refs))
	for i, r := range refs {
		out[i] = r.UID
	}
	return out
}

// unblock clears blockOwnerDeletion on the references to the given owners.
func unblock(owners []metav1.OwnerReference, of []types.UID) []metav1.OwnerReference {
	out := slices.Clone(owners)
	f := false
	for i := range out {
		if slices.Contains(of, out[i].UID) && blocks(&out[i]) {
			out[i].BlockOwnerDeletion = &f
		}
	}
	return out
}
