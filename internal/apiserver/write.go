package apiserver

import (
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/printers"
	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/store"
)

// writeObject encodes obj (an object or a list) in the negotiated form.
func (s *Server) writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, st store.Interface, out output) {
	var err error
	switch {
	case out.table:
		obj, err = s.toTable(r, obj, st.Resource(), false)
	case out.meta:
		obj, err = toPartial(obj)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	data, err := s.codecs.encode(obj, out.media)
	if err != nil {
		writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	writeRaw(w, code, out.media, data)
}

func writeRaw(w http.ResponseWriter, code int, media string, data []byte) {
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// addWarnings sets upstream-style Warning headers.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", `299 - "`+escapeWarning(msg)+`"`)
	}
}

func escapeWarning(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// includeObject reads the includeObject table parameter.
func includeObject(r *http.Request) printers.IncludeObject {
	switch v := r.URL.Query().Get("includeObject"); v {
	case "None", "Object":
		return printers.IncludeObject(v)
	}
	return printers.IncludeObject("Metadata")
}

// toTable renders an object or list as a server-side Table. Row objects
// are pre-encoded as JSON because RawExtension only marshals raw bytes.
func (s *Server) toTable(r *http.Request, obj runtime.Object, res *registry.Resource, noHeaders bool) (*metav1.Table, error) {
	objs := []runtime.Object{obj}
	var lm metav1.ListMeta
	if meta.IsListType(obj) {
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		objs = items
		if la, err := meta.ListAccessor(obj); err == nil {
			lm = metav1.ListMeta{ResourceVersion: la.GetResourceVersion(), Continue: la.GetContinue(), RemainingItemCount: la.GetRemainingItemCount()}
		}
	} else if acc, err := meta.Accessor(obj); err == nil {
		lm.ResourceVersion = acc.GetResourceVersion()
	}
	gr := schema.GroupResource{Group: res.Group, Resource: res.Resource}
	table, err := printers.ToTable(gr, objs, includeObject(r), noHeaders, time.Now())
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	table.ListMeta = lm
	for i := range table.Rows {
		ro := &table.Rows[i].Object
		if ro.Object == nil || ro.Raw != nil {
			continue
		}
		raw, err := s.codecs.encode(ro.Object, mediaJSON)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		ro.Raw = raw
	}
	table.TypeMeta = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"}
	return table, nil
}

// toPartial renders metadata only, for as=PartialObjectMetadata(List).
func toPartial(obj runtime.Object) (runtime.Object, error) {
	if !meta.IsListType(obj) {
		acc, err := meta.Accessor(obj)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		return partialMeta(acc), nil
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"}}
	if la, err := meta.ListAccessor(obj); err == nil {
		list.ResourceVersion, list.Continue = la.GetResourceVersion(), la.GetContinue()
	}
	for _, it := range items {
		acc, err := meta.Accessor(it)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		list.Items = append(list.Items, *partialMeta(acc))
	}
	return list, nil
}
