package apiserver

import (
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
)

func (s *Server) create(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	if ri.name != "" {
		methodNotAllowed(w, r, ri)
		return
	}
	res := st.Resource()
	out, wo, obj, warnings, err := s.readWrite(r, res)
	if err != nil {
		writeError(w, r, err)
		return
	}
	created, err := st.Create(r.Context(), ri.namespace, obj, wo)
	if err != nil {
		writeError(w, r, err)
		return
	}
	addWarnings(w, warnings)
	s.writeObject(w, r, http.StatusCreated, created, st, out)
}

// readWrite parses what every body-carrying write needs: output form,
// dryRun, and the decoded body under the fieldValidation directive.
func (s *Server) readWrite(r *http.Request, res *registry.Resource) (output, store.WriteOptions, runtime.Object, []string, error) {
	var wo store.WriteOptions
	out, err := negotiate(r)
	if err != nil {
		return out, wo, nil, nil, err
	}
	if wo.DryRun, err = dryRun(r); err != nil {
		return out, wo, nil, nil, err
	}
	fv, err := parseFieldValidation(r)
	if err != nil {
		return out, wo, nil, nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return out, wo, nil, nil, err
	}
	media, err := bodyMedia(r)
	if err != nil {
		return out, wo, nil, nil, err
	}
	obj, warnings, err := s.codecs.decodeInto(body, media, res.GVK(), res.New(), fv)
	return out, wo, obj, warnings, err
}
