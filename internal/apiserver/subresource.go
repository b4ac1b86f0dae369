package apiserver

import (
	"context"
	"net/http"
	"slices"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
)

// subresource routes /status, /scale, /binding, /eviction, /finalize and
// the pod subresources the node agent serves (podconnect.go).
func (s *Server) subresource(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	res := st.Resource()
	switch {
	case ri.sub == "status" && res.HasStatus:
		s.status(w, r, ri, st)
	case ri.sub == "scale" && res.Scale != nil:
		s.scale(w, r, ri, st)
	case ri.sub == "binding" && res.Resource == "pods" && r.Method == http.MethodPost:
		s.bind(w, r, ri, st)
	case ri.sub == "eviction" && res.Resource == "pods" && r.Method == http.MethodPost:
		s.evict(w, r, ri, st)
	case ri.sub == "finalize" && res.Resource == "namespaces" && r.Method == http.MethodPut:
		s.finalize(w, r, ri, st)
	case res.Resource == "pods" && res.Group == "" && isPodConnect(ri.sub):
		s.podConnect(w, r, ri, st)
	default:
		notFoundPath(w, r)
	}
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	switch r.Method {
	case http.MethodGet:
		s.get(w, r, ri, st)
	case http.MethodPut:
		s.update(w, r, ri, st, store.Status)
	case http.MethodPatch:
		s.patch(w, r, ri, st, store.Status)
	default:
		methodNotAllowed(w, r, ri)
	}
}

// scaleResource describes autoscaling/v1 Scale for the shared codecs.
var scaleResource = &registry.Resource{
	Group: "autoscaling", Version: "v1", Resource: "scale", Kind: "Scale",
	New: func() runtime.Object { return &autoscalingv1.Scale{} },
}

func (s *Server) scale(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, err := negotiate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var obj runtime.Object
	switch r.Method {
	case http.MethodGet:
		obj, err = st.Get(r.Context(), ri.namespace, ri.name, store.GetOptions{})
	case http.MethodPut, http.MethodPatch:
		obj, err = s.writeScale(r, ri, st)
	default:
		methodNotAllowed(w, r, ri)
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	data, err := s.codecs.encode(scaleOf(obj, st.Resource()), out.media)
	if err != nil {
		writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	writeRaw(w, http.StatusOK, out.media, data)
}

// writeScale applies a Scale PUT or PATCH to the scaled object's replicas.
func (s *Server) writeScale(r *http.Request, ri requestInfo, st store.Interface) (runtime.Object, error) {
	res := st.Resource()
	var p patchRequest
	var put runtime.Object
	var err error
	if r.Method == http.MethodPatch {
		if p, err = s.readPatch(r); err != nil {
			return nil, err
		}
	} else if _, _, put, _, err = s.readWrite(r, scaleResource); err != nil {
		return nil, err
	}
	dry, err := dryRun(r)
	if err != nil {
		return nil, err
	}
	fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		want := put
		if want == nil {
			sc := scaleOf(cur, res)
			obj, _, err := s.applyPatch(p, sc, scaleResource)
			if err != nil {
				return nil, err
			}
			want = obj
		}
		sc := want.(*autoscalingv1.Scale)
		if sc.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, ri.name, nil)
		}
		res.Scale.Set(cur, sc.Spec.Replicas)
		return cur, nil
	}
	return st.Update(r.Context(), ri.namespace, ri.name, fn, store.WriteOptions{DryRun: dry})
}

func scaleOf(obj runtime.Object, res *registry.Resource) *autoscalingv1.Scale {
	spec, status, sel := res.Scale.Get(obj)
	m, _ := metaOf(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: sel},
	}
}

// finalize replaces a namespace's spec.finalizers and nothing else.
func (s *Server) finalize(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, wo, obj, _, err := s.readWrite(r, st.Resource())
	if err != nil {
		writeError(w, r, err)
		return
	}
	want := obj.(*corev1.Namespace).Spec.Finalizers
	wo.Subresource = store.Finalize
	fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1.Namespace)
		ns.Spec.Finalizers = slices.Clone(want)
		return ns, nil
	}
	updated, err := st.Update(r.Context(), "", ri.name, fn, wo)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if ns := updated.(*corev1.Namespace); ns.DeletionTimestamp != nil && len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		if obj, _, err := st.Delete(r.Context(), "", ri.name, store.DeleteOptions{}); err == nil {
			updated = obj
		}
	}
	s.writeObject(w, r, http.StatusOK, updated, st, out)
}
