package podcontrol

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
)

// OwnedPodEvents routes pod events to the owner that controls the pod, for
// controllers of one kind whose pods carry a controller reference. It keeps
// the owner's expectations in step, so a sync never counts a pod it is
// still waiting to see created or deleted.
type OwnedPodEvents struct {
	// Kind is the owners' kind.
	Kind schema.GroupVersionKind
	// Expect are the owners' expectations.
	Expect *controller.Expectations
	// Add queues an owner's key.
	Add func(key string)
	// Orphan is given pods that no owner of Kind controls, so that owners
	// that may adopt them can be queued.
	Orphan func(*corev1.Pod)
}

// OwnerKey is the key of the owner of Kind controlling obj, if any.
func (e OwnedPodEvents) OwnerKey(obj metav1.Object) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != e.Kind.Kind || ref.APIVersion != e.Kind.GroupVersion().String() {
		return "", false
	}
	return obj.GetNamespace() + "/" + ref.Name, true
}

// Handler is the pod informer's event handler.
func (e OwnedPodEvents) Handler() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{AddFunc: e.added, UpdateFunc: e.updated, DeleteFunc: e.deleted}
}

func (e OwnedPodEvents) added(obj any) {
	p := obj.(*corev1.Pod)
	key, ok := e.OwnerKey(p)
	switch {
	case ok && p.DeletionTimestamp != nil:
		// First seen while already going away (a relist): its deletion
		// started unobserved, and its final delete will not count again.
		e.Expect.DeletionObserved(key)
		e.Add(key)
	case ok:
		e.Expect.CreationObserved(key)
		e.Add(key)
	case p.DeletionTimestamp == nil:
		e.Orphan(p)
	}
}

func (e OwnedPodEvents) updated(old, cur any) {
	o, p := old.(*corev1.Pod), cur.(*corev1.Pod)
	if o.ResourceVersion == p.ResourceVersion {
		return // a resync
	}
	oldKey, hadOwner := e.OwnerKey(o)
	key, ok := e.OwnerKey(p)
	if hadOwner && oldKey != key {
		e.Add(oldKey)
	}
	if !ok {
		e.Orphan(p)
		return
	}
	if p.DeletionTimestamp != nil && o.DeletionTimestamp == nil {
		e.Expect.DeletionObserved(key)
	}
	e.Add(key)
}

func (e OwnedPodEvents) deleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if key, ok := e.OwnerKey(p); ok {
		if p.DeletionTimestamp == nil {
			// Its deletion was never observed as an update.
			e.Expect.DeletionObserved(key)
		}
		e.Add(key)
	}
}

// OwnedHandler queues the owner of Kind controlling any other owned object
// (e.g. a ControllerRevision) when it comes, changes or goes.
func (e OwnedPodEvents) OwnedHandler() cache.ResourceEventHandlerFuncs {
	queue := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if o, ok := obj.(metav1.Object); ok {
			if key, ok := e.OwnerKey(o); ok {
				e.Add(key)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: queue, UpdateFunc: func(_, o any) { queue(o) }, DeleteFunc: queue}
}
