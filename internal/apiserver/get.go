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
	out, opts, err := readList(r, ri, st)
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

// readList parses what list and watch requests share: the output form and
// the list options.
func readList(r *http.Request, ri requestInfo, st store.Interface) (output, store.ListOptions, error) {
	out, err := negotiate(r)
	if err != nil {
		return out, store.ListOptions{}, err
	}
	opts, err := listOptions(r, ri, st.Resource())
	return out, opts, err
}
