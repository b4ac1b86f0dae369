package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
)

func (s *Server) patch(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface, sub store.Subresource) {
	if ri.name == "" {
		methodNotAllowed(w, r, ri)
		return
	}
	res := st.Resource()
	p, err := s.readPatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var warnings []string
	fn := func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		obj, warns, err := s.applyPatch(p, cur, res)
		warnings = warns
		return obj, err
	}
	p.wo.Subresource = sub
	updated, err := st.Update(r.Context(), ri.namespace, ri.name, fn, p.wo)
	if err != nil {
		writeError(w, r, err)
		return
	}
	addWarnings(w, warnings)
	s.writeObject(w, r, http.StatusOK, updated, st, p.out)
}

// patchRequest is a parsed PATCH.
type patchRequest struct {
	typ  types.PatchType
	body []byte
	fv   fieldValidation
	out  output
	wo   store.WriteOptions
}

func (s *Server) readPatch(r *http.Request) (patchRequest, error) {
	var p patchRequest
	var err error
	if p.out, err = negotiate(r); err != nil {
		return p, err
	}
	if p.wo.DryRun, err = dryRun(r); err != nil {
		return p, err
	}
	if p.fv, err = parseFieldValidation(r); err != nil {
		return p, err
	}
	media, err := bodyMedia(r)
	if err != nil {
		return p, err
	}
	p.typ = types.PatchType(media)
	switch p.typ {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
	case types.ApplyYAMLPatchType, types.ApplyCBORPatchType:
		return p, unsupportedMedia("server-side apply (" + media + ") is not supported by navarch yet; use client-side kubectl apply")
	default:
		return p, unsupportedMedia(media)
	}
	p.body, err = readBody(r)
	return p, err
}

// applyPatch applies the patch to the current object. The current
// resourceVersion is cleared first, so that only a resourceVersion the
// patch itself names makes the write conditional.
func (s *Server) applyPatch(p patchRequest, cur runtime.Object, res *registry.Resource) (runtime.Object, []string, error) {
	if acc, err := meta.Accessor(cur); err == nil {
		acc.SetResourceVersion("")
	}
	cur.GetObjectKind().SetGroupVersionKind(res.GVK())
	orig, err := s.codecs.encode(cur, mediaJSON)
	if err != nil {
		return nil, nil, apierrors.NewInternalError(err)
	}
	patched, err := patchJSON(p.typ, orig, p.body, res)
	if err != nil {
		return nil, nil, err
	}
	return s.codecs.decodeInto(patched, mediaJSON, res.GVK(), res.New(), p.fv)
}

func patchJSON(typ types.PatchType, orig, patch []byte, res *registry.Resource) ([]byte, error) {
	var out []byte
	var err error
	switch typ {
	case types.JSONPatchType:
		var ops jsonpatch.Patch
		if ops, err = jsonpatch.DecodePatch(patch); err == nil {
			if err := checkJSONPatch(ops); err != nil {
				return nil, err
			}
			out, err = ops.Apply(orig)
		}
	case types.MergePatchType:
		out, err = jsonpatch.MergePatch(orig, patch)
	case types.StrategicMergePatchType:
		out, err = strategicpatch.StrategicMergePatch(orig, patch, res.New())
	}
	var tooBig *jsonpatch.AccumulatedCopySizeError
	if errors.As(err, &tooBig) {
		return nil, apierrors.NewRequestEntityTooLargeError(err.Error())
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the patch could not be applied: %v", err))
	}
	if len(out) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("the patched object is larger than %d bytes", maxBodyBytes))
	}
	return out, nil
}

// maxJSONPatchOps is upstream's cap on operations in one JSON patch.
const maxJSONPatchOps = 10000

func init() {
	// Bounds what copy operations may duplicate, so that a small patch
	// cannot grow an object without limit.
	jsonpatch.AccumulatedCopySizeLimit = maxBodyBytes
}

// checkJSONPatch refuses patches the library would mishandle: too many
// operations, or value-carrying operations without a value (which make
// json-patch dereference nil).
func checkJSONPatch(ops jsonpatch.Patch) error {
	if len(ops) > maxJSONPatchOps {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOps, len(ops)))
	}
	for i, op := range ops {
		switch op.Kind() {
		case "add", "replace", "test":
			if v, ok := op["value"]; !ok || v == nil {
				return apierrors.NewBadRequest(fmt.Sprintf("the patch could not be applied: operation %d (%s) has no value", i, op.Kind()))
			}
		}
	}
	return nil
}
