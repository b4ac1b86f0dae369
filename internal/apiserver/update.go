package apiserver

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/registry/store"
)

func (s *Server) update(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface, sub store.Subresource) {
	if ri.name == "" {
		methodNotAllowed(w, r, ri)
		return
	}
	out, wo, obj, warnings, err := s.readWrite(r, st.Resource())
	if err != nil {
		writeError(w, r, err)
		return
	}
	acc, err := meta.Accessor(obj)
	if err != nil || (acc.GetName() != "" && acc.GetName() != ri.name) {
		writeError(w, r, apierrors.NewBadRequest("the name of the object ("+nameOf(acc)+") does not match the name on the URL ("+ri.name+")"))
		return
	}
	acc.SetName(ri.name)
	wo.Subresource = sub
	fn := func(_ context.Context, _ runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}
	updated, err := st.Update(r.Context(), ri.namespace, ri.name, fn, wo)
	if err != nil {
		writeError(w, r, err)
		return
	}
	addWarnings(w, warnings)
	s.writeObject(w, r, http.StatusOK, updated, st, out)
}

func nameOf(acc interface{ GetName() string }) string {
	if acc == nil {
		return ""
	}
	return acc.GetName()
}
