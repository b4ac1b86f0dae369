package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/registry"
)

// fuzzTarget is one resource with a valid stored object to patch.
type fuzzTarget struct {
	res  *registry.Resource
	orig []byte
}

var fuzzMedia = []string{mediaJSON, mediaYAML, mediaProtobuf, "application/x-yaml", "text/yaml", "text/plain"}

var fuzzPatchTypes = []types.PatchType{types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType}

var fuzzValidation = []fieldValidation{fvWarn, fvStrict, fvIgnore}

var knownVerbs = []string{"", "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

func fuzzTargets(t testing.TB) []fuzzTarget {
	t.Helper()
	res := testResources(t)
	labels := map[string]string{"app": "x"}
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}
	objs := map[string]runtime.Object{
		"/pods": &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: labels}, Spec: podSpec},
		"apps/deployments": &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}}},
		"/services": &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Spec: corev1.ServiceSpec{
			Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		"/configmaps": &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Data: map[string]string{"k": "v"}},
	}
	c := newCodecs()
	var out []fuzzTarget
	for _, key := range []string{"/pods", "apps/deployments", "/services", "/configmaps"} {
		r := res[key]
		obj := objs[key]
		obj.GetObjectKind().SetGroupVersionKind(r.GVK())
		orig, err := c.encode(obj, mediaJSON)
		if err != nil {
			t.Fatalf("encode %s: %v", key, err)
		}
		out = append(out, fuzzTarget{res: r, orig: orig})
	}
	return out
}

// checkClientError fails unless err is nil or an API status with a 4xx
// code: malformed input is the client's fault, never a 500 or a panic.
func checkClientError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("%s: error is not an API status: %T %v", what, err, err)
	}
	if code := se.Status().Code; code < 400 || code > 499 {
		t.Fatalf("%s: status code %d, want 4xx: %v", what, code, err)
	}
}

// rootOpWithoutValue spots the input class of the known json-patch panic:
// a "replace" or "test" of the whole document ("path": "") with no value.
func rootOpWithoutValue(body []byte) bool {
	var ops []map[string]json.RawMessage
	if json.Unmarshal(body, &ops) != nil {
		return false
	}
	for _, op := range ops {
		var name, path string
		_ = json.Unmarshal(op["op"], &name)
		_ = json.Unmarshal(op["path"], &path)
		_, hasValue := op["value"]
		if (name == "replace" || name == "test") && path == "" && !hasValue {
			return true
		}
	}
	return false
}

// FuzzDecodeRequest drives the request-decoding path with arbitrary input:
// path and query parsing, list options and field selectors, Accept
// negotiation, body decoding in every media type, and every patch type.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct {
		sel                 uint8
		method, path, query string
		accept, body        string
	}{
		{0, "GET", "/api/v1/namespaces/ns/pods", "labelSelector=app%3Dx&fieldSelector=spec.nodeName%3Dn&limit=5", "application/json", ""},
		{1, "PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", "", kubectlGetAccept, `{"spec":{"replicas":3}}`},
		{2, "PATCH", "/api/v1/namespaces/ns/services/s", "fieldValidation=Strict", "application/yaml", `[{"op":"replace","path":"/spec/ports/0/port","value":81}]`},
		{3, "POST", "/api/v1/namespaces/ns/configmaps", "dryRun=All", "*/*", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}`},
		{4, "PUT", "/api/v1/namespaces/x/status", "", "", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n"},
		{5, "GET", "/api/v1/watch/namespaces/x/pods", "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", "application/vnd.kubernetes.protobuf", "k8s\x00\n\x04\n\x02v1\x12\x03Pod"},
		{6, "GET", "/apis/apps/v1/namespaces/x/deployments/y/scale", "fieldSelector=metadata.name%3D%3D%3Dx", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", `{"spec":{"template":{"spec":{"containers":[{"name":"c","$patch":"delete"}]}}}}`},
		{7, "DELETE", "/api/v1/namespaces/ns/pods", "continue=abc&resourceVersion=3&limit=-1", "text/html;q=0", `[{"op":"remove","path":"/metadata"}]`},
		{8, "GET", "/api/v1/pods", "fieldSelector=spec.bogus%3Dx", "application/json;q=0.5,application/yaml;q=0.9", `{"metadata":{"$retainKeys":["name"]}}`},
		{9, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `{"spec":{"containers":[{"name":"c","ports":[{"$patch":"replace"}]}]}}`},
		{10, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `[{"op":"move","from":"/spec","path":"/spec/containers/0"}]`},
		{11, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `{"kind":"Secret","apiVersion":"v1"}`},
		{12, "GET", "//api//v1//", "watch=1", ";;;", "null"},
		{32, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"d","image":"i"}]}}`},
		{33, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"labels":{"$patch":"replace"}}}`},
		{34, "PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", "", "", `{"$patch":"delete"}`},
		{35, "PATCH", "/api/v1/namespaces/ns/services/s", "", "", `{"spec":{"ports":[{"port":80,"$patch":"merge"},{"$retainKeys":[1]}]}}`},
		{16, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `{"spec":{"containers":null,"$patch":"replace"}}`},
		{0, "PATCH", "/api/v1/namespaces/ns/pods/p", "", "", `[{"op":"add","path":"/spec/containers/-","value":{"name":"e"}},{"op":"remove","path":"/spec/containers/5"}]`},
	}
	for _, s := range seeds {
		f.Add(s.sel, s.method, s.path, s.query, s.accept, []byte(s.body))
	}
	targets := fuzzTargets(f)
	codecs := newCodecs()
	f.Fuzz(func(t *testing.T, sel uint8, method, path, query, accept string, body []byte) {
		tgt := targets[int(sel)%len(targets)]
		media := fuzzMedia[int(sel/4)%len(fuzzMedia)]
		fv := fuzzValidation[int(sel/8)%len(fuzzValidation)]
		patchType := fuzzPatchTypes[int(sel/16)%len(fuzzPatchTypes)]

		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		r.Header.Set("Accept", accept)
		ri, ok := parseRequest(r)
		if ok && (ri.resource == "" || !slices.Contains(knownVerbs, ri.verb)) {
			t.Fatalf("parseRequest(%q) = %+v: a resource request with no resource or an unknown verb", path, ri)
		}
		_, err := listOptions(r, ri, tgt.res)
		checkClientError(t, "listOptions", err)
		_, err = fieldSelector(query, ri, tgt.res)
		checkClientError(t, "fieldSelector", err)
		if _, err = negotiate(r); err != nil && statusCode(err) != http.StatusNotAcceptable {
			t.Fatalf("negotiate(%q): %v, want nil or 406", accept, err)
		}
		_, err = dryRun(r)
		checkClientError(t, "dryRun", err)
		_, err = parseFieldValidation(r)
		checkClientError(t, "fieldValidation", err)

		_, _, err = codecs.decodeInto(body, media, tgt.res.GVK(), tgt.res.New(), fv)
		checkClientError(t, "decodeInto "+media, err)

		patched, err := patchJSON(patchType, tgt.orig, body, tgt.res)
		checkClientError(t, "patchJSON "+string(patchType), err)
		if err == nil {
			_, _, err = codecs.decodeInto(patched, mediaJSON, tgt.res.GVK(), tgt.res.New(), fv)
			checkClientError(t, "decode patched "+string(patchType), err)
		}
	})
}
