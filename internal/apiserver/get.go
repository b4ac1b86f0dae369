package apiserver

import (
	"net/http"

	"github.com/navarch/navarch/internal/registry/store"
)

func (s *Server) get(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, err := negotiate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, err := st.Get(r.Context(), ri.namespace, ri.name, store.GetOptions{ResourceVersion: r.URL.Query().Get("resourceVersion")})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeObject(w, r, http.StatusOK, obj, st, out)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, err := negotiate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	opts, err := listOptions(r, ri, st.Resource())
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, err := st.List(r.Context(), ri.namespace, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeObject(w, r, http.StatusOK, obj, st, out)
}
