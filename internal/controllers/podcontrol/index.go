package podcontrol

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// ControllerIndex names the informer index AddControllerIndex adds: objects
// by the UID of their controller, and orphans by namespace.
const ControllerIndex = "navarch.io/controller-uid"

const orphanPrefix = "orphan/"

// AddControllerIndex adds ControllerIndex to a shared informer (pods,
// ReplicaSets, ...) unless it has it, so that a sync reads only its own
// objects and the orphans it may adopt instead of a whole namespace. Call
// it from a controller's constructor, before the informers start.
func AddControllerIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[ControllerIndex]; ok {
		return nil
	}
	err := inf.AddIndexers(cache.Indexers{ControllerIndex: func(obj any) ([]string, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, nil
		}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			return []string{string(ref.UID)}, nil
		}
		return []string{orphanPrefix + m.GetNamespace()}, nil
	}})
	if err != nil {
		return fmt.Errorf("add controller index: %w", err)
	}
	return nil
}

// Candidates returns from an informer with ControllerIndex the objects
// controlled by uid and the orphans of namespace: everything a RefManager
// for that owner may claim.
func Candidates[T any](indexer cache.Indexer, namespace string, uid types.UID) ([]T, error) {
	owned, err := indexer.ByIndex(ControllerIndex, string(uid))
	if err != nil {
		return nil, err
	}
	orphans, err := indexer.ByIndex(ControllerIndex, orphanPrefix+namespace)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(owned)+len(orphans))
	for _, o := range append(owned, orphans...) {
		// ownerReferences never cross namespaces: an object naming a
		// controller elsewhere is not that controller's.
		if m, err := meta.Accessor(o); err != nil || m.GetNamespace() != namespace {
			continue
		}
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// PodCandidates is Candidates for pods.
func PodCandidates(indexer cache.Indexer, namespace string, uid types.UID) ([]*corev1.Pod, error) {
	return Candidates[*corev1.Pod](indexer, namespace, uid)
}
