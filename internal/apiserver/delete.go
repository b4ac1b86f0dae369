package apiserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/navarch/navarch/internal/registry/store"
)

func (s *Server) delete(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	out, err := negotiate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, deleted, err := st.Delete(r.Context(), ri.namespace, ri.name, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !deleted {
		s.writeObject(w, r, http.StatusAccepted, obj, st, out)
		return
	}
	if st.Resource().Resource == "pods" {
		s.writeObject(w, r, http.StatusOK, obj, st, out)
		return
	}
	writeStatus(w, successStatus(obj, st))
}

// successStatus is the Status upstream returns for an immediate delete.
func successStatus(obj runtime.Object, st store.Interface) metav1.Status {
	res := st.Resource()
	d := &metav1.StatusDetails{Group: res.Group, Kind: res.Resource}
	if acc, err := meta.Accessor(obj); err == nil {
		d.Name, d.UID = acc.GetName(), acc.GetUID()
	}
	return metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Details: d, Code: http.StatusOK,
	}
}

// deleteOptions merges DeleteOptions from the body and the query.
func deleteOptions(r *http.Request) (store.DeleteOptions, error) {
	var do metav1.DeleteOptions
	body, err := readBody(r)
	if err != nil {
		return store.DeleteOptions{}, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeDeleteOptions(r, body, &do); err != nil {
			return store.DeleteOptions{}, err
		}
	}
	q := r.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return store.DeleteOptions{}, apierrors.NewBadRequest("invalid gracePeriodSeconds " + strconv.Quote(v))
		}
		do.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		p := metav1.DeletionPropagation(v)
		do.PropagationPolicy = &p
	}
	if q.Get("orphanDependents") == "true" {
		t := true
		do.OrphanDependents = &t
	}
	if dr, err := dryRun(r); err != nil {
		return store.DeleteOptions{}, err
	} else if dr {
		do.DryRun = []string{metav1.DryRunAll}
	}
	return toStoreDelete(do)
}

// decodeDeleteOptions reads a DeleteOptions body in its content type:
// kubectl sends JSON, client-go's typed clients send protobuf.
func decodeDeleteOptions(r *http.Request, body []byte, do *metav1.DeleteOptions) error {
	media, err := bodyMedia(r)
	if err != nil {
		return err
	}
	if media == mediaProtobuf {
		if _, _, err := protoCodec.Decode(body, &deleteOptionsGVK, do); err != nil {
			return apierrors.NewBadRequest("invalid DeleteOptions in the request body: " + err.Error())
		}
		return nil
	}
	if err := json.Unmarshal(body, do); err != nil {
		return apierrors.NewBadRequest("invalid DeleteOptions in the request body: " + err.Error())
	}
	return nil
}

var (
	protoCodec       = protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	deleteOptionsGVK = metav1.SchemeGroupVersion.WithKind("DeleteOptions")
)

func toStoreDelete(do metav1.DeleteOptions) (store.DeleteOptions, error) {
	opts := store.DeleteOptions{GracePeriodSeconds: do.GracePeriodSeconds, DryRun: len(do.DryRun) > 0}
	if do.Preconditions != nil {
		if do.Preconditions.UID != nil {
			uid := string(*do.Preconditions.UID)
			opts.PreconditionUID = &uid
		}
		opts.PreconditionRV = do.Preconditions.ResourceVersion
	}
	if do.OrphanDependents != nil && do.PropagationPolicy != nil {
		return opts, apierrors.NewBadRequest("orphanDependents and propagationPolicy may not both be set")
	}
	switch {
	case do.PropagationPolicy != nil:
		switch *do.PropagationPolicy {
		case metav1.DeletePropagationOrphan, metav1.DeletePropagationBackground, metav1.DeletePropagationForeground:
			opts.Propagation = string(*do.PropagationPolicy)
		default:
			return opts, apierrors.NewBadRequest("propagationPolicy: Unsupported value: " + strconv.Quote(string(*do.PropagationPolicy)))
		}
	case do.OrphanDependents != nil && *do.OrphanDependents:
		opts.Propagation = string(metav1.DeletePropagationOrphan)
	}
	return opts, nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, ri requestInfo, st store.Interface) {
	lo, err := listOptions(r, ri, st.Resource())
	if err != nil {
		writeError(w, r, err)
		return
	}
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := st.List(r.Context(), ri.namespace, lo)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, _ := meta.ExtractList(list)
	for _, it := range items {
		acc, err := meta.Accessor(it)
		if err != nil {
			continue
		}
		if _, _, err := st.Delete(r.Context(), acc.GetNamespace(), acc.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
			writeError(w, r, err)
			return
		}
	}
	writeStatus(w, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusOK, Details: &metav1.StatusDetails{}})
}
