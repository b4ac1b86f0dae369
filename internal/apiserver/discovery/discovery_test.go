package discovery

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
)

func testResources() []*registry.Resource {
	obj := func(o runtime.Object) func() runtime.Object {
		return func() runtime.Object { return o.DeepCopyObject() }
	}
	hpaStorage := &registry.Conversion{Storage: schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}}
	return []*registry.Resource{
		{Version: "v1", Resource: "pods", Kind: "Pod", Singular: "pod", ShortNames: []string{"po"}, Categories: []string{"all"},
			Namespaced: true, New: obj(&corev1.Pod{}), NewList: obj(&corev1.PodList{}), HasStatus: true,
			Subresources: []string{"binding", "eviction", "log", "exec", "attach", "portforward", "proxy"}},
		{Version: "v1", Resource: "namespaces", Kind: "Namespace", Singular: "namespace", ShortNames: []string{"ns"},
			New: obj(&corev1.Namespace{}), NewList: obj(&corev1.NamespaceList{}), HasStatus: true, Subresources: []string{"finalize"},
			Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}},
		{Version: "v1", Resource: "serviceaccounts", Kind: "ServiceAccount", Singular: "serviceaccount", ShortNames: []string{"sa"},
			Namespaced: true, New: obj(&corev1.ServiceAccount{}), NewList: obj(&corev1.ServiceAccountList{}), Subresources: []string{"token"}},
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Singular: "deployment", ShortNames: []string{"deploy"},
			Categories: []string{"all"}, Namespaced: true, New: obj(&appsv1.Deployment{}), NewList: obj(&appsv1.DeploymentList{}),
			HasStatus: true, Scale: &registry.Scale{}},
		{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler",
			ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true, HasStatus: true, Conversion: hpaStorage,
			New: obj(&autoscalingv1.HorizontalPodAutoscaler{}), NewList: obj(&autoscalingv1.HorizontalPodAutoscalerList{})},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Singular: "horizontalpodautoscaler",
			ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true, HasStatus: true,
			New: obj(&autoscalingv2.HorizontalPodAutoscaler{}), NewList: obj(&autoscalingv2.HorizontalPodAutoscalerList{})},
		{Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event", Singular: "event", ShortNames: []string{"ev"},
			Namespaced: true, New: obj(&eventsv1.Event{}), NewList: obj(&eventsv1.EventList{})},
	}
}

func get(t *testing.T, h http.Handler, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://example.test:6443"+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, rec.Body.String())
	}
	return v
}

func TestLegacyAPIVersions(t *testing.T) {
	rec := get(t, New(testResources()), "/api", "application/json")
	v := decode[metav1.APIVersions](t, rec)
	if v.Kind != "APIVersions" || !slices.Equal(v.Versions, []string{"v1"}) {
		t.Fatalf("got %+v", v)
	}
	if len(v.ServerAddressByClientCIDRs) != 1 || v.ServerAddressByClientCIDRs[0].ServerAddress != "example.test:6443" ||
		v.ServerAddressByClientCIDRs[0].ClientCIDR != "0.0.0.0/0" {
		t.Fatalf("serverAddressByClientCIDRs = %+v", v.ServerAddressByClientCIDRs)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
}

func TestLegacyGroups(t *testing.T) {
	d := New(testResources())
	list := decode[metav1.APIGroupList](t, get(t, d, "/apis", ""))
	if list.Kind != "APIGroupList" || list.APIVersion != "v1" {
		t.Fatalf("type meta %+v", list.TypeMeta)
	}
	var names []string
	for _, g := range list.Groups {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"apps", "autoscaling", "events.k8s.io"}) {
		t.Fatalf("groups %v", names)
	}
	g := decode[metav1.APIGroup](t, get(t, d, "/apis/autoscaling", ""))
	if g.Kind != "APIGroup" || g.PreferredVersion.GroupVersion != "autoscaling/v2" || len(g.Versions) != 2 ||
		g.Versions[1].GroupVersion != "autoscaling/v1" || g.Versions[1].Version != "v1" {
		t.Fatalf("autoscaling group %+v", g)
	}
}

func findResource(list metav1.APIResourceList, name string) *metav1.APIResource {
	for i := range list.APIResources {
		if list.APIResources[i].Name == name {
			return &list.APIResources[i]
		}
	}
	return nil
}

func TestLegacyResourceLists(t *testing.T) {
	d := New(testResources())
	core := decode[metav1.APIResourceList](t, get(t, d, "/api/v1", ""))
	apps := decode[metav1.APIResourceList](t, get(t, d, "/apis/apps/v1", ""))
	if core.Kind != "APIResourceList" || core.GroupVersion != "v1" || apps.GroupVersion != "apps/v1" || apps.APIVersion != "v1" {
		t.Fatalf("type meta core=%+v apps=%+v", core.TypeMeta, apps.TypeMeta)
	}
	tests := []struct {
		list                  metav1.APIResourceList
		name, group, version  string
		kind                  string
		verbs                 []string
		namespaced, hasHash   bool
		singular, short, cats string
	}{
		{core, "pods", "", "", "Pod", registry.DefaultVerbs, true, true, "pod", "po", "all"},
		{core, "pods/status", "", "", "Pod", []string{"get", "patch", "update"}, true, false, "", "", ""},
		{core, "pods/binding", "", "", "Binding", []string{"create"}, true, false, "", "", ""},
		{core, "pods/eviction", "policy", "v1", "Eviction", []string{"create"}, true, false, "", "", ""},
		{core, "pods/log", "", "", "Pod", []string{"get"}, true, false, "", "", ""},
		{core, "pods/exec", "", "", "PodExecOptions", []string{"create", "get"}, true, false, "", "", ""},
		{core, "pods/portforward", "", "", "PodPortForwardOptions", []string{"create", "get"}, true, false, "", "", ""},
		{core, "pods/proxy", "", "", "PodProxyOptions", []string{"create", "delete", "get", "patch", "update"}, true, false, "", "", ""},
		{core, "namespaces", "", "", "Namespace", []string{"create", "delete", "get", "list", "patch", "update", "watch"}, false, true, "namespace", "ns", ""},
		{core, "namespaces/finalize", "", "", "Namespace", []string{"update"}, false, false, "", "", ""},
		{core, "serviceaccounts/token", "authentication.k8s.io", "v1", "TokenRequest", []string{"create"}, true, false, "", "", ""},
		{apps, "deployments", "", "", "Deployment", registry.DefaultVerbs, true, true, "deployment", "deploy", "all"},
		{apps, "deployments/scale", "autoscaling", "v1", "Scale", []string{"get", "patch", "update"}, true, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := findResource(tt.list, tt.name)
			if r == nil {
				t.Fatalf("%s missing", tt.name)
			}
			if r.Group != tt.group || r.Version != tt.version || r.Kind != tt.kind || r.Namespaced != tt.namespaced ||
				!slices.Equal(r.Verbs, tt.verbs) || r.SingularName != tt.singular || (r.StorageVersionHash != "") != tt.hasHash {
				t.Fatalf("got %+v", r)
			}
			if tt.short != "" && !slices.Equal(r.ShortNames, []string{tt.short}) || tt.cats != "" && !slices.Equal(r.Categories, []string{tt.cats}) {
				t.Fatalf("short names / categories %+v", r)
			}
		})
	}
	if !slices.IsSortedFunc(core.APIResources, func(a, b metav1.APIResource) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatal("core resources not sorted by name")
	}
}

func TestStorageVersionHashSharedAcrossConversions(t *testing.T) {
	d := New(testResources())
	v1 := findResource(decode[metav1.APIResourceList](t, get(t, d, "/apis/autoscaling/v1", "")), "horizontalpodautoscalers")
	v2 := findResource(decode[metav1.APIResourceList](t, get(t, d, "/apis/autoscaling/v2", "")), "horizontalpodautoscalers")
	if v1 == nil || v2 == nil || v1.StorageVersionHash != v2.StorageVersionHash {
		t.Fatalf("hashes differ: %+v %+v", v1, v2)
	}
}

func TestNotFound(t *testing.T) {
	d := New(testResources())
	for _, p := range []string{"/apis/nope", "/apis/apps/v2", "/api/v2", "/apis/apps/v1/deployments", "/", "/healthz"} {
		rec := get(t, d, p, "")
		st := decode[metav1.Status](t, rec)
		if rec.Code != http.StatusNotFound || st.Reason != metav1.StatusReasonNotFound || st.Code != 404 {
			t.Errorf("%s: code %d status %+v", p, rec.Code, st)
		}
	}
}
