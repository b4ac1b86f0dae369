package apiserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/all"
	"github.com/navarch/navarch/internal/registry/core"
)

// testResources indexes every served resource by "group/resource".
func testResources(t testing.TB) map[string]*registry.Resource {
	t.Helper()
	out := map[string]*registry.Resource{}
	for _, r := range all.Resources(core.Options{}) {
		if r.Conversion == nil {
			out[r.Group+"/"+r.Resource] = r
		}
	}
	return out
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		method, target string
		ok             bool
		want           requestInfo
	}{
		{"GET", "/api/v1/pods", true, requestInfo{version: "v1", resource: "pods", verb: "list"}},
		{"GET", "/api/v1/namespaces", true, requestInfo{version: "v1", resource: "namespaces", verb: "list"}},
		{"GET", "/api/v1/namespaces/x", true, requestInfo{version: "v1", resource: "namespaces", name: "x", verb: "get"}},
		{"PUT", "/api/v1/namespaces/x/status", true, requestInfo{version: "v1", resource: "namespaces", name: "x", sub: "status", verb: "update"}},
		{"PUT", "/api/v1/namespaces/x/finalize", true, requestInfo{version: "v1", resource: "namespaces", name: "x", sub: "finalize", verb: "update"}},
		{"GET", "/api/v1/namespaces/x/pods", true, requestInfo{version: "v1", namespace: "x", resource: "pods", verb: "list"}},
		{"POST", "/api/v1/namespaces/x/pods", true, requestInfo{version: "v1", namespace: "x", resource: "pods", verb: "create"}},
		{"GET", "/api/v1/namespaces/x/pods/p", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", verb: "get"}},
		{"HEAD", "/api/v1/namespaces/x/pods/p", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", verb: "get"}},
		{"GET", "/api/v1/namespaces/x/pods/p/log", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", sub: "log", verb: "get"}},
		{"PATCH", "/api/v1/namespaces/x/pods/p/status", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", sub: "status", verb: "patch"}},
		{"DELETE", "/api/v1/namespaces/x/pods/p", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", verb: "delete"}},
		{"DELETE", "/api/v1/namespaces/x/pods", true, requestInfo{version: "v1", namespace: "x", resource: "pods", verb: "deletecollection"}},
		{"GET", "/api/v1/watch/namespaces/x/pods", true, requestInfo{version: "v1", namespace: "x", resource: "pods", watch: true, verb: "watch"}},
		{"GET", "/api/v1/watch/namespaces/x/pods/p", true, requestInfo{version: "v1", namespace: "x", resource: "pods", name: "p", watch: true, verb: "watch"}},
		{"GET", "/api/v1/watch/pods", true, requestInfo{version: "v1", resource: "pods", watch: true, verb: "watch"}},
		{"GET", "/api/v1/namespaces/x/pods?watch=true", true, requestInfo{version: "v1", namespace: "x", resource: "pods", watch: true, verb: "watch"}},
		{"GET", "/api/v1/namespaces/x/pods?watch=1", true, requestInfo{version: "v1", namespace: "x", resource: "pods", watch: true, verb: "watch"}},
		{"GET", "/api/v1/namespaces/x/pods?watch=false", true, requestInfo{version: "v1", namespace: "x", resource: "pods", verb: "list"}},
		{"GET", "/apis/apps/v1/deployments", true, requestInfo{group: "apps", version: "v1", resource: "deployments", verb: "list"}},
		{"GET", "/apis/apps/v1/namespaces/x/deployments/y", true, requestInfo{group: "apps", version: "v1", namespace: "x", resource: "deployments", name: "y", verb: "get"}},
		{"GET", "/apis/apps/v1/namespaces/x/deployments/y/scale", true, requestInfo{group: "apps", version: "v1", namespace: "x", resource: "deployments", name: "y", sub: "scale", verb: "get"}},
		{"PUT", "/apis/apps/v1/namespaces/x/deployments/y/scale", true, requestInfo{group: "apps", version: "v1", namespace: "x", resource: "deployments", name: "y", sub: "scale", verb: "update"}},
		{"GET", "/apis/apps/v1/watch/namespaces/x/deployments", true, requestInfo{group: "apps", version: "v1", namespace: "x", resource: "deployments", watch: true, verb: "watch"}},
		{"GET", "/api/v1/pods/", true, requestInfo{version: "v1", resource: "pods", verb: "list"}},
		{"OPTIONS", "/api/v1/pods", true, requestInfo{version: "v1", resource: "pods", verb: ""}},
		// Discovery and other non-resource paths.
		{"GET", "/api", false, requestInfo{}},
		{"GET", "/api/v1", false, requestInfo{}},
		{"GET", "/api/v1/", false, requestInfo{}},
		{"GET", "/apis", false, requestInfo{}},
		{"GET", "/apis/apps", false, requestInfo{}},
		{"GET", "/apis/apps/v1", false, requestInfo{}},
		{"GET", "/api/v1/watch", false, requestInfo{}},
		{"GET", "/apis/apps/v1/watch", false, requestInfo{}},
		{"GET", "/healthz", false, requestInfo{}},
		{"GET", "/", false, requestInfo{}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			got, ok := parseRequest(r)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (got %+v)", ok, tc.ok, got)
			}
			if ok && got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestVerbOf(t *testing.T) {
	named := requestInfo{name: "n"}
	tests := []struct {
		method string
		ri     requestInfo
		want   string
	}{
		{http.MethodGet, requestInfo{}, "list"},
		{http.MethodGet, named, "get"},
		{http.MethodGet, requestInfo{watch: true}, "watch"},
		{http.MethodGet, requestInfo{name: "n", watch: true}, "watch"},
		{http.MethodHead, named, "get"},
		{http.MethodPost, requestInfo{}, "create"},
		{http.MethodPost, named, "create"},
		{http.MethodPut, named, "update"},
		{http.MethodPatch, named, "patch"},
		{http.MethodDelete, named, "delete"},
		{http.MethodDelete, requestInfo{}, "deletecollection"},
		{http.MethodOptions, named, ""},
		{"BREW", named, ""},
	}
	for _, tc := range tests {
		if got := verbOf(tc.method, tc.ri); got != tc.want {
			t.Errorf("verbOf(%s, %+v) = %q, want %q", tc.method, tc.ri, got, tc.want)
		}
	}
}

func TestFieldSelector(t *testing.T) {
	res := testResources(t)
	tests := []struct {
		name     string
		resource string
		sel      string
		pathName string
		wantErr  string // substring; "" means success
		want     string // the selector's String() on success
	}{
		{"empty", "/configmaps", "", "", "", ""},
		{"name", "/configmaps", "metadata.name=a", "", "", "metadata.name=a"},
		{"namespace", "/configmaps", "metadata.namespace!=kube-system", "", "", "metadata.namespace!=kube-system"},
		{"pod node", "/pods", "spec.nodeName=n1,status.phase=Running", "", "", "spec.nodeName=n1,status.phase=Running"},
		{"pod unknown field", "/pods", "spec.foo=x", "", "field label not supported: spec.foo", ""},
		{"configmap data", "/configmaps", "data.x=y", "", "field label not supported: data.x", ""},
		{"cluster-scoped namespace field", "/namespaces", "metadata.namespace=x", "", "field label not supported: metadata.namespace", ""},
		{"namespace phase", "/namespaces", "status.phase=Active", "", "", "status.phase=Active"},
		{"service type", "/services", "spec.type=ClusterIP", "", "", "spec.type=ClusterIP"},
		{"bad syntax", "/pods", "spec.nodeName", "", "invalid field selector", ""},
		{"path name is added", "/configmaps", "", "cm", "", "metadata.name=cm"},
		{"path name and selector", "apps/deployments", "metadata.namespace=x", "d", "", "metadata.name=d,metadata.namespace=x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := res[tc.resource]
			if !ok {
				t.Fatalf("no resource %s", tc.resource)
			}
			sel, err := fieldSelector(tc.sel, requestInfo{name: tc.pathName}, r)
			if tc.wantErr != "" {
				if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want 400 containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := sortTerms(sel.String()); got != sortTerms(tc.want) {
				t.Errorf("selector %q, want %q", got, tc.want)
			}
		})
	}
}

// sortTerms makes selector strings comparable whatever the term order
// (and drops the empty term an AND with Everything() prints).
func sortTerms(s string) string {
	var terms []string
	for _, term := range strings.Split(s, ",") {
		if term != "" {
			terms = append(terms, term)
		}
	}
	for i := 1; i < len(terms); i++ {
		for j := i; j > 0 && terms[j] < terms[j-1]; j-- {
			terms[j], terms[j-1] = terms[j-1], terms[j]
		}
	}
	return strings.Join(terms, ",")
}

func TestListOptions(t *testing.T) {
	pods := testResources(t)["/pods"]
	tests := []struct {
		name    string
		query   string
		verb    string
		wantErr string
		check   func(t *testing.T, limit int64, rv, cont string, bookmarks bool, sie *bool)
	}{
		{"all fields", "limit=5&resourceVersion=0&allowWatchBookmarks=true&labelSelector=a%3Db", "list", "", func(t *testing.T, limit int64, rv, _ string, bm bool, _ *bool) {
			if limit != 5 || rv != "0" || !bm {
				t.Errorf("limit=%d rv=%q bookmarks=%v", limit, rv, bm)
			}
		}},
		{"send initial events on watch", "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "watch", "", func(t *testing.T, _ int64, _, _ string, _ bool, sie *bool) {
			if sie == nil || !*sie {
				t.Errorf("sendInitialEvents = %v", sie)
			}
		}},
		{"negative limit", "limit=-1", "list", "invalid limit", nil},
		{"non-numeric limit", "limit=ten", "list", "invalid limit", nil},
		{"bad label selector", "labelSelector=a%3D%3D%3Db", "list", "unable to parse requirement", nil},
		{"unknown field", "fieldSelector=spec.bogus%3Dx", "list", "field label not supported", nil},
		{"bad rv match", "resourceVersion=1&resourceVersionMatch=Newest", "list", "resourceVersionMatch", nil},
		{"rv match without rv", "resourceVersionMatch=Exact", "list", "resourceVersionMatch is forbidden", nil},
		{"continue with rv", "continue=abc&resourceVersion=5", "list", "specifying resource version is not allowed", nil},
		{"initial events on list", "sendInitialEvents=true", "list", "sendInitialEvents is forbidden", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/pods?"+tc.query, nil)
			opts, err := listOptions(r, requestInfo{resource: "pods", verb: tc.verb}, pods)
			if tc.wantErr != "" {
				if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want 400 containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, opts.Limit, opts.ResourceVersion, opts.Continue, opts.AllowBookmarks, opts.SendInitialEvents)
		})
	}
}

func TestDryRunParam(t *testing.T) {
	tests := []struct {
		query string
		want  bool
		err   bool
	}{
		{"", false, false},
		{"dryRun=All", true, false},
		{"dryRun=All&dryRun=All", true, false},
		{"dryRun=all", false, true},
		{"dryRun=", false, true},
	}
	for _, tc := range tests {
		got, err := dryRun(httptest.NewRequest("POST", "/api/v1/pods?"+tc.query, nil))
		var se apierrors.APIStatus
		if tc.err != (err != nil) || (err != nil && !errors.As(err, &se)) || got != tc.want {
			t.Errorf("dryRun(%q) = %v, %v; want %v, error %v", tc.query, got, err, tc.want, tc.err)
		}
	}
}
