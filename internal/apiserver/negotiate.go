package apiserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// Media types the server speaks.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// maxBodyBytes is the largest request body accepted, as upstream.
const maxBodyBytes = 3 << 20

// codecSet holds one serializer per media type; all are stateless.
type codecSet struct {
	json, yaml, proto       runtime.Serializer
	strictJSON, strictYAML  runtime.Serializer
	protoRaw                runtime.Serializer
	jsonStream, protoStream runtime.Serializer
}

func newCodecs() *codecSet {
	mf := json.DefaultMetaFactory
	s := scheme.Scheme
	return &codecSet{
		json:        json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{}),
		yaml:        json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Yaml: true}),
		strictJSON:  json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Strict: true}),
		strictYAML:  json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Yaml: true, Strict: true}),
		proto:       protobuf.NewSerializer(s, s),
		protoRaw:    protobuf.NewRawSerializer(s, s),
		jsonStream:  json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{}),
		protoStream: protobuf.NewRawSerializer(s, s),
	}
}

// output is the negotiated response form.
type output struct {
	media string
	// table is set for as=Table; meta for as=PartialObjectMetadata(List).
	table, meta bool
}

// negotiate picks the first acceptable media type in the Accept header.
func negotiate(r *http.Request) (output, error) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return output{media: mediaJSON}, nil
	}
	for _, item := range sortedAccept(accept) {
		if o, ok := acceptable(item); ok {
			return o, nil
		}
	}
	return output{}, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "", "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf", 0, false)
}

type acceptItem struct {
	media  string
	params map[string]string
	q      float64
}

// sortedAccept parses an Accept header, dropping q=0, stable by q-value.
func sortedAccept(h string) []acceptItem {
	var items []acceptItem
	for _, part := range strings.Split(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			q, _ = strconv.ParseFloat(v, 64)
		}
		if q > 0 {
			items = append(items, acceptItem{media: mt, params: params, q: q})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].q > items[j].q })
	return items
}

func acceptable(a acceptItem) (output, bool) {
	media := a.media
	switch media {
	case "*/*", "application/*":
		media = mediaJSON
	case mediaJSON, mediaYAML, mediaProtobuf:
	default:
		return output{}, false
	}
	as := a.params["as"]
	if as == "" {
		return output{media: media}, true
	}
	if a.params["g"] != "meta.k8s.io" || (a.params["v"] != "v1" && a.params["v"] != "v1beta1") {
		return output{}, false
	}
	switch as {
	case "Table":
		return output{media: mediaJSON, table: true}, media == mediaJSON
	case "PartialObjectMetadata", "PartialObjectMetadataList":
		return output{media: media, meta: true}, media != mediaYAML
	}
	return output{}, false
}

// serializer returns the encoder for a response media type.
func (c *codecSet) serializer(media string) runtime.Serializer {
	switch media {
	case mediaYAML:
		return c.yaml
	case mediaProtobuf:
		return c.proto
	}
	return c.json
}

// encode serializes obj for the wire.
func (c *codecSet) encode(obj runtime.Object, media string) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.serializer(media).Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readBody reads a request body, refusing anything over maxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest("error reading request body: " + err.Error())
	}
	if len(b) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	return b, nil
}

// bodyMedia returns the request's content media type.
func bodyMedia(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return mediaJSON, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", unsupportedMedia(ct)
	}
	return mt, nil
}

// fieldValidation is the fieldValidation query parameter.
type fieldValidation string

const (
	fvStrict fieldValidation = "Strict"
	fvWarn   fieldValidation = "Warn"
	fvIgnore fieldValidation = "Ignore"
)

func parseFieldValidation(r *http.Request) (fieldValidation, error) {
	switch v := r.URL.Query().Get("fieldValidation"); v {
	case "", "Warn":
		return fvWarn, nil
	case "Strict", "Ignore":
		return fieldValidation(v), nil
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("fieldValidation parameter unsupported: %v", v))
	}
}

// decodeInto decodes data of the given media type into a new object of the
// resource's type, applying fieldValidation. Warnings are returned for Warn.
func (c *codecSet) decodeInto(data []byte, media string, gvk schema.GroupVersionKind, into runtime.Object, fv fieldValidation) (runtime.Object, []string, error) {
	var ser runtime.Serializer
	switch media {
	case mediaJSON:
		ser = c.strictJSON
	case mediaYAML, "application/x-yaml", "text/yaml":
		ser = c.strictYAML
	case mediaProtobuf:
		ser = c.proto
	default:
		return nil, nil, unsupportedMedia(media)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, apierrors.NewBadRequest("the request body is empty")
	}
	obj, got, err := ser.Decode(data, &gvk, into)
	warnings, err := strictness(err, fv)
	if err != nil {
		return nil, nil, err
	}
	if got != nil && (got.Kind != gvk.Kind || got.GroupVersion() != gvk.GroupVersion()) {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %s, Kind=%s in the data", gvk.Kind, got.GroupVersion(), got.Kind))
	}
	return obj, warnings, nil
}

// strictness applies fieldValidation to a decode error.
func strictness(err error, fv fieldValidation) ([]string, error) {
	if err == nil {
		return nil, nil
	}
	if !runtime.IsStrictDecodingError(err) {
		var se apierrors.APIStatus
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, apierrors.NewBadRequest(decodeMessage(err))
	}
	switch fv {
	case fvStrict:
		return nil, apierrors.NewBadRequest(err.Error())
	case fvWarn:
		var out []string
		if sde, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range sde.Errors() {
				out = append(out, e.Error())
			}
		}
		return out, nil
	}
	return nil, nil
}

func decodeMessage(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "no kind") || strings.Contains(msg, "not registered") {
		return "the body of the request was in an unknown format or names an unknown kind: " + msg
	}
	return "the body of the request could not be decoded: " + msg
}

// partialMeta turns an object into PartialObjectMetadata for as=PartialObjectMetadata.
func partialMeta(obj metav1.Object) *metav1.PartialObjectMetadata {
	pm := &metav1.PartialObjectMetadata{}
	pm.ObjectMeta = metav1.ObjectMeta{
		Name: obj.GetName(), Namespace: obj.GetNamespace(), UID: obj.GetUID(),
		ResourceVersion: obj.GetResourceVersion(), Generation: obj.GetGeneration(),
		CreationTimestamp: obj.GetCreationTimestamp(), DeletionTimestamp: obj.GetDeletionTimestamp(),
		DeletionGracePeriodSeconds: obj.GetDeletionGracePeriodSeconds(),
		Labels:                     obj.GetLabels(), Annotations: obj.GetAnnotations(), OwnerReferences: obj.GetOwnerReferences(),
		Finalizers: obj.GetFinalizers(), GenerateName: obj.GetGenerateName(), ManagedFields: obj.GetManagedFields(),
	}
	pm.TypeMeta = metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}
	return pm
}

// unsupportedMedia is the 415 answer for a body type the server cannot read.
func unsupportedMedia(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType,
		Reason: metav1.StatusReasonUnsupportedMediaType, Message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf: " + msg,
	}}
}
