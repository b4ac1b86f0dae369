package apiserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
)

var bindingResource = &registry.Resource{Version: "v1", Resource: "bindings", Kind: "Binding",
	New: func() runtime.Object { return &corev1.Binding{} }}

var evictionResource = &registry.Resource{Group: "policy", Version: "v1", Resource: "evictions", Kind: "Eviction",
	New: func() runtime.Object { return &policyv1.Eviction{} }}

func metaOf(obj runtime.Object) (metav1.Object, error) { return meta.Accessor(obj) }

// bind assigns a pod to a node, once: a second binding is a conflict.
func (s *Server) bind(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	_, wo, obj, _, err := s.readWrite(r, bindingResource)
	if err != nil {
		writeError(w, r, err)
		return
	}
	b := obj.(*corev1.Binding)
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		writeError(w, r, apierrors.NewBadRequest("target.kind: Unsupported value: "+b.Target.Kind))
		return
	}
	if b.Target.Name == "" {
		writeError(w, r, apierrors.NewBadRequest("target.name: Required value"))
		return
	}
	fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		return bindPod(cur.(*corev1.Pod), b)
	}
	wo.Subresource = store.Binding
	if _, err := st.Update(r.Context(), ri.namespace, ri.name, fn, wo); err != nil {
		writeError(w, r, err)
		return
	}
	writeStatusJSON(w, http.StatusCreated, createdStatus)
}

// createdStatus answers every successful binding and eviction, as
// upstream's does, encoded once: the scheduler binds hundreds of pods a
// second.
var createdStatus = marshalStatus(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
	Status: metav1.StatusSuccess, Code: http.StatusCreated})

func bindPod(pod *corev1.Pod, b *corev1.Binding) (runtime.Object, error) {
	gr := schema.GroupResource{Resource: "pods/binding"}
	if pod.DeletionTimestamp != nil {
		return nil, apierrors.NewConflict(gr, pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
	}
	if pod.Spec.NodeName != "" {
		return nil, apierrors.NewConflict(gr, pod.Name, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
	}
	if b.UID != "" && b.UID != pod.UID {
		return nil, apierrors.NewConflict(gr, pod.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
	}
	pod.Spec.NodeName = b.Target.Name
	for k, v := range b.Annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	setScheduled(pod)
	return pod, nil
}

func setScheduled(pod *corev1.Pod) {
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
	for i, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			pod.Status.Conditions[i] = cond
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, cond)
}

// evict deletes a pod unless a PodDisruptionBudget forbids it.
func (s *Server) evict(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	_, _, obj, _, err := s.readWrite(r, evictionResource)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ev := obj.(*policyv1.Eviction)
	pod, err := st.Get(r.Context(), ri.namespace, ri.name, store.GetOptions{})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.checkDisruption(r.Context(), pod.(*corev1.Pod)); err != nil {
		writeError(w, r, err)
		return
	}
	opts := store.DeleteOptions{}
	if ev.DeleteOptions != nil {
		if opts, err = toStoreDelete(*ev.DeleteOptions); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if _, _, err := st.Delete(r.Context(), ri.namespace, ri.name, opts); err != nil {
		writeError(w, r, err)
		return
	}
	writeStatusJSON(w, http.StatusCreated, createdStatus)
}

// checkDisruption refuses an eviction that a matching budget has no room for.
func (s *Server) checkDisruption(ctx context.Context, pod *corev1.Pod) error {
	pdbs, ok := s.cfg.Stores[policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")]
	if !ok || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	list, err := pdbs.List(ctx, pod.Namespace, store.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	for _, pdb := range list.(*policyv1.PodDisruptionBudgetList).Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if pdb.Status.DisruptionsAllowed <= 0 {
			err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
			err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: "DisruptionBudget", Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)})
			return err
		}
	}
	return nil
}
