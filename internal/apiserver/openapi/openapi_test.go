package openapi

import (
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	protomodels "k8s.io/kube-openapi/pkg/util/proto"
)

func TestDefinitionName(t *testing.T) {
	tests := []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[appsv1.Deployment](), "io.k8s.api.apps.v1.Deployment"},
		{reflect.TypeFor[metav1.ObjectMeta](), "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
		{reflect.TypeFor[resource.Quantity](), "io.k8s.apimachinery.pkg.api.resource.Quantity"},
		{reflect.TypeFor[intstr.IntOrString](), "io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
	}
	for _, tt := range tests {
		if got := definitionName(tt.t); got != tt.want {
			t.Errorf("%v: got %q want %q", tt.t, got, tt.want)
		}
	}
}

func TestOperationPrefix(t *testing.T) {
	tests := []struct{ group, version, want string }{
		{"", "v1", "CoreV1"},
		{"apps", "v1", "AppsV1"},
		{"rbac.authorization.k8s.io", "v1", "RbacAuthorizationV1"},
		{"events.k8s.io", "v1", "EventsV1"},
		{"autoscaling", "v2beta1", "AutoscalingV2beta1"},
	}
	for _, tt := range tests {
		if got := operationPrefix(tt.group, tt.version); got != tt.want {
			t.Errorf("%q %q: got %q want %q", tt.group, tt.version, got, tt.want)
		}
	}
}

func TestFieldSchemas(t *testing.T) {
	type sample struct {
		metav1.TypeMeta `json:",inline"`
		I32             int32               `json:"i32"`
		I64             *int64              `json:"i64,omitempty"`
		F               float64             `json:"f"`
		B               bool                `json:"b"`
		Raw             []byte              `json:"raw"`
		Labels          map[string]string   `json:"labels"`
		List            []corev1.Container  `json:"list" patchStrategy:"merge" patchMergeKey:"name"`
		Q               resource.Quantity   `json:"q"`
		Phase           corev1.PodPhase     `json:"phase"`
		Skip            string              `json:"-"`
		Res             corev1.ResourceList `json:"res"`
		Untagged        string
	}
	d := newDefinitions()
	s := d.structure(reflect.TypeFor[sample]())
	render := func(name string) map[string]any { return s.Properties[name].render(v2) }
	tests := []struct {
		field string
		want  map[string]any
	}{
		{"i32", map[string]any{"type": "integer", "format": "int32"}},
		{"i64", map[string]any{"type": "integer", "format": "int64"}},
		{"f", map[string]any{"type": "number", "format": "double"}},
		{"b", map[string]any{"type": "boolean"}},
		{"raw", map[string]any{"type": "string", "format": "byte"}},
		{"phase", map[string]any{"type": "string"}},
		{"Untagged", map[string]any{"type": "string"}},
		{"labels", map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}},
		{"q", map[string]any{"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}},
		{"res", map[string]any{"type": "object", "additionalProperties": map[string]any{"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}}},
		{"list", map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/io.k8s.api.core.v1.Container"},
			"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"}},
	}
	for _, tt := range tests {
		if got := render(tt.field); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v want %v", tt.field, got, tt.want)
		}
	}
	if _, ok := s.Properties["kind"]; !ok {
		t.Error("inline TypeMeta not flattened")
	}
	if _, ok := s.Properties["Skip"]; ok {
		t.Error(`json:"-" field present`)
	}
	q := d.byName["io.k8s.apimachinery.pkg.api.resource.Quantity"]
	if q.Type != "string" || q.Description == "" {
		t.Errorf("Quantity %+v", q)
	}
}

func TestWellKnownDefinitions(t *testing.T) {
	d := newDefinitions()
	for _, typ := range []reflect.Type{reflect.TypeFor[metav1.Time](), reflect.TypeFor[intstr.IntOrString](),
		reflect.TypeFor[metav1.FieldsV1](), reflect.TypeFor[metav1.Duration](), reflect.TypeFor[metav1.MicroTime]()} {
		d.define(typ)
	}
	tests := []struct {
		name string
		d    dialect
		key  string
		want any
	}{
		{"io.k8s.apimachinery.pkg.apis.meta.v1.Time", v2, "format", "date-time"},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", v3, "format", "date-time"},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.Duration", v2, "type", "string"},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", v2, "type", "object"},
		{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", v2, "format", "int-or-string"},
		{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", v3, "x-kubernetes-int-or-string", true},
	}
	for _, tt := range tests {
		got := d.byName[tt.name].render(tt.d)[tt.key]
		if got != tt.want {
			t.Errorf("%s %v %s: got %v want %v", tt.name, tt.d, tt.key, got, tt.want)
		}
	}
}

func fetch(t *testing.T, h http.Handler, url, accept, ifNoneMatch string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestV2Protobuf(t *testing.T) {
	o := New(testResources(), "v1.37.2")
	resp := fetch(t, o, "/openapi/v2", ProtobufV2+", application/json;q=0.5", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openapi_v2.Document
	if err := proto.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	// kubectl builds its v2 models (used by client-side apply) this way.
	models, err := protomodels.NewOpenAPIData(&doc)
	if err != nil {
		t.Fatalf("kube-openapi rejects the v2 document: %v", err)
	}
	if models.LookupModel("io.k8s.api.core.v1.PodSpec") == nil {
		t.Fatal("PodSpec model missing")
	}
	if doc.Info.Version != "v1.37.2" {
		t.Errorf("info.version %q", doc.Info.Version)
	}
	var dep *openapi_v2.Schema
	for _, p := range doc.Definitions.AdditionalProperties {
		if p.Name == "io.k8s.api.apps.v1.Deployment" {
			dep = p.Value
		}
	}
	if dep == nil || !strings.Contains(dep.Description, "Deployment enables declarative updates") {
		t.Fatalf("Deployment definition %v", dep)
	}
	var gvk string
	for _, e := range dep.VendorExtension {
		if e.Name == "x-kubernetes-group-version-kind" {
			gvk = e.Value.Yaml
		}
	}
	if !strings.Contains(gvk, "group: apps") || !strings.Contains(gvk, "kind: Deployment") {
		t.Fatalf("gvk extension %q", gvk)
	}
	again := fetch(t, o, "/openapi/v2", ProtobufV2, resp.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match gave %d", again.StatusCode)
	}
	if r := fetch(t, o, "/openapi/v2", "application/json", ""); r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("json content type %q", r.Header.Get("Content-Type"))
	}
	if r := fetch(t, o, "/openapi/v2", "text/html", ""); r.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("text/html gave %d", r.StatusCode)
	}
}

// TestV3WithClientGo reads the documents through client-go's openapi3 root,
// which parses them with kube-openapi's spec3 like kubectl does.
func TestV3WithClientGo(t *testing.T) {
	srv := httptest.NewServer(New(testResources(), "v1.37.2"))
	defer srv.Close()
	root := openapi3.NewRoot(discovery.NewDiscoveryClientForConfigOrDie(&rest.Config{Host: srv.URL}).OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil || len(gvs) != 5 {
		t.Fatalf("group versions %v %v", gvs, err)
	}
	apps, err := root.GVSpec(schema.GroupVersion{Group: "apps", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	spec := apps.Components.Schemas["io.k8s.api.apps.v1.DeploymentSpec"]
	if spec == nil || !strings.Contains(spec.Properties["strategy"].Description, "deployment strategy") ||
		len(spec.Properties["strategy"].AllOf) != 1 {
		t.Fatalf("DeploymentSpec.strategy %+v", spec)
	}
	for _, name := range []string{"io.k8s.api.core.v1.PodSpec", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.autoscaling.v1.Scale"} {
		if apps.Components.Schemas[name] == nil {
			t.Errorf("apps/v1 lacks %s", name)
		}
	}
	if apps.Components.Schemas["io.k8s.api.core.v1.Pod"] != nil {
		t.Error("apps/v1 carries unreachable core Pod schema")
	}
	patchOps := 0
	for path, item := range apps.Paths.Paths {
		if item.Patch == nil {
			continue
		}
		patchOps++
		if !hasParam(item.Patch.Parameters, "fieldValidation") || item.Patch.RequestBody.Content["application/apply-patch+yaml"] == nil {
			t.Errorf("PATCH %s lacks fieldValidation or apply content", path)
		}
		if item.Post != nil && !hasParam(item.Post.Parameters, "fieldValidation") {
			t.Errorf("POST %s lacks fieldValidation", path)
		}
	}
	if patchOps != 3 {
		t.Fatalf("apps/v1 has %d PATCH operations, want 3", patchOps)
	}
	op := apps.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"].Patch
	if op.OperationId != "patchAppsV1NamespacedDeploymentScale" || op.Extensions["x-kubernetes-action"] != "patch" {
		t.Fatalf("scale patch %+v", op.OperationProps)
	}

	core, err := root.GVSpec(schema.GroupVersion{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	containers := core.Components.Schemas["io.k8s.api.core.v1.PodSpec"].Properties["containers"]
	if containers.Extensions["x-kubernetes-patch-merge-key"] != "name" || containers.Extensions["x-kubernetes-patch-strategy"] != "merge" {
		t.Fatalf("PodSpec.containers extensions %v", containers.Extensions)
	}
	if core.Paths.Paths["/api/v1/namespaces/{namespace}/pods"].Get.OperationId != "listCoreV1NamespacedPod" {
		t.Fatal("listCoreV1NamespacedPod missing")
	}
}

// hasParam mirrors kubectl's check for server-side field validation.
func hasParam(params []*spec3.Parameter, name string) bool {
	for _, p := range params {
		if p.Name == name && p.In == "query" {
			return true
		}
	}
	return false
}

func TestV3IndexAndCaching(t *testing.T) {
	o := New(testResources(), "v1.37.2")
	o.once.Do(o.build)
	doc := o.v3["apis/apps/v1"]
	hashed := fetch(t, o, "/openapi/v3/apis/apps/v1?hash="+doc.hash, "", "")
	if hashed.Header.Get("Cache-Control") != "public, immutable" {
		t.Fatalf("hashed Cache-Control %q", hashed.Header.Get("Cache-Control"))
	}
	plain := fetch(t, o, "/openapi/v3/apis/apps/v1", "application/json", "")
	if plain.Header.Get("Cache-Control") == "public, immutable" || plain.StatusCode != 200 {
		t.Fatalf("unhashed: %d %q", plain.StatusCode, plain.Header.Get("Cache-Control"))
	}
	if r := fetch(t, o, "/openapi/v3/apis/apps/v1", "application/json", plain.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match gave %d", r.StatusCode)
	}
	// kubectl parses the answer's Content-Type with mime.ParseMediaType,
	// which refuses the "@" of the requested form.
	r := fetch(t, o, "/openapi/v3/apis/apps/v1", ProtobufV3, "")
	if ct := r.Header.Get("Content-Type"); ct != "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" {
		t.Fatalf("protobuf v3 content type %q", ct)
	}
	if _, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil {
		t.Fatalf("content type does not parse: %v", err)
	}
	if r := fetch(t, o, "/openapi/v3/apis/nope/v1", "", ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown group-version gave %d", r.StatusCode)
	}
	index, _ := io.ReadAll(fetch(t, o, "/openapi/v3", "", "").Body)
	if !strings.Contains(string(index), `"/openapi/v3/apis/apps/v1?hash=`+doc.hash+`"`) {
		t.Fatalf("index %s", index)
	}
}
