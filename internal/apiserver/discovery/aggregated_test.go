package discovery

import (
	"net/http"
	"net/http/httptest"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

func TestAcceptNegotiation(t *testing.T) {
	const v2 = ContentTypeV2
	const v2beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
	tests := []struct {
		accept     string
		aggregated bool
	}{
		{"", false},
		{"application/json", false},
		{"*/*", false},
		{v2, true},
		{v2 + ",application/json", true},
		{"application/json," + v2, false},
		{v2 + ";q=0.9," + v2beta1 + ";q=0.95,application/json;q=0.8", true},
		{"application/json;q=0.5, " + v2 + ";q=0.9", true},
		{v2 + ";q=0.5,application/json", false},
		{v2beta1 + ",application/json", false},
		{"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer," + v2 + ",application/json", true},
		{"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," + v2 + ",application/json", true},
		{"application/vnd.kubernetes.protobuf", false},
		{"text/html;;garbage,application/json", false},
		{v2 + ";q=0", false},
	}
	for _, tt := range tests {
		if got := acceptsAggregated([]string{tt.accept}); got != tt.aggregated {
			t.Errorf("%q: aggregated=%v want %v", tt.accept, got, tt.aggregated)
		}
	}
}

func TestAggregatedNamedGroups(t *testing.T) {
	rec := get(t, New(testResources()), "/apis", ContentTypeV2+",application/json")
	if ct := rec.Header().Get("Content-Type"); ct != ContentTypeV2 {
		t.Fatalf("content type %q", ct)
	}
	if rec.Header().Get("Vary") != "Accept" || rec.Header().Get("ETag") == "" {
		t.Fatalf("headers %v", rec.Header())
	}
	list := decode[apidiscoveryv2.APIGroupDiscoveryList](t, rec)
	if list.Kind != "APIGroupDiscoveryList" || list.APIVersion != "apidiscovery.k8s.io/v2" || len(list.Items) != 3 {
		t.Fatalf("list %+v", list)
	}
	as := list.Items[1]
	if as.Name != "autoscaling" || len(as.Versions) != 2 || as.Versions[0].Version != "v2" || as.Versions[1].Version != "v1" {
		t.Fatalf("autoscaling %+v", as)
	}
	apps := list.Items[0].Versions[0]
	if apps.Freshness != apidiscoveryv2.DiscoveryFreshnessCurrent || len(apps.Resources) != 1 {
		t.Fatalf("apps/v1 %+v", apps)
	}
	d := apps.Resources[0]
	want := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	if d.Resource != "deployments" || *d.ResponseKind != want || d.Scope != apidiscoveryv2.ScopeNamespace ||
		d.SingularResource != "deployment" || d.ShortNames[0] != "deploy" || d.Categories[0] != "all" || len(d.Verbs) != 8 {
		t.Fatalf("deployments %+v", d)
	}
	if len(d.Subresources) != 2 || d.Subresources[1].Subresource != "scale" ||
		*d.Subresources[1].ResponseKind != (metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}) ||
		d.Subresources[0].ResponseKind.Kind != "Deployment" || len(d.Subresources[0].Verbs) != 3 {
		t.Fatalf("subresources %+v", d.Subresources)
	}
}

func TestAggregatedCore(t *testing.T) {
	list := decode[apidiscoveryv2.APIGroupDiscoveryList](t, get(t, New(testResources()), "/api", ContentTypeV2))
	if len(list.Items) != 1 || list.Items[0].Name != "" || list.Items[0].Versions[0].Version != "v1" {
		t.Fatalf("core %+v", list)
	}
	for _, r := range list.Items[0].Versions[0].Resources {
		if r.Resource == "namespaces" && r.Scope != apidiscoveryv2.ScopeCluster {
			t.Fatalf("namespaces scope %q", r.Scope)
		}
	}
}

func TestETagNotModified(t *testing.T) {
	d := New(testResources())
	for _, accept := range []string{ContentTypeV2, "application/json"} {
		first := get(t, d, "/apis", accept)
		req := httptest.NewRequest(http.MethodGet, "/apis", nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("If-None-Match", first.Header().Get("ETag"))
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Fatalf("%s: code %d", accept, rec.Code)
		}
		req.Header.Set("If-None-Match", `"stale"`)
		rec = httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: stale etag gave %d", accept, rec.Code)
		}
	}
	if get(t, d, "/apis", ContentTypeV2).Header().Get("ETag") == get(t, d, "/apis", "").Header().Get("ETag") {
		t.Fatal("aggregated and legacy documents share an ETag")
	}
}

// TestClientGoDiscovery checks that the real discovery client reads both
// forms the same way.
func TestClientGoDiscovery(t *testing.T) {
	srv := httptest.NewServer(New(testResources()))
	defer srv.Close()
	for _, legacy := range []bool{false, true} {
		c := discovery.NewDiscoveryClientForConfigOrDie(&rest.Config{Host: srv.URL})
		c.UseLegacyDiscovery = legacy
		groups, lists, err := c.ServerGroupsAndResources()
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		if len(groups) != 4 || groups[0].Name != "" || groups[2].PreferredVersion.Version != "v2" {
			t.Fatalf("legacy=%v: groups %+v", legacy, groups)
		}
		found := false
		for _, l := range lists {
			for _, r := range l.APIResources {
				if l.GroupVersion == "apps/v1" && r.Name == "deployments/scale" && r.Kind == "Scale" && r.Group == "autoscaling" {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("legacy=%v: deployments/scale missing from %+v", legacy, lists)
		}
	}
}
