// Package discovery serves the Kubernetes API discovery documents (/api,
// /apis, /apis/<group> and the per-version resource lists) in both the legacy
// JSON form and the aggregated apidiscovery.k8s.io/v2 form. The documents are
// a pure function of the registry's resource list, built once in New.
//
// It must not consult storage, authorization or any other server state: what
// a client may do with a resource is decided elsewhere.
package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/registry"
)

// ContentTypeV2 is the media type of aggregated discovery responses.
const ContentTypeV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// document is a pre-encoded response body with its entity tag.
type document struct {
	body []byte
	etag string
}

func newDocument(v any) document {
	body, err := json.Marshal(v)
	if err != nil {
		// Only plain API structs are encoded here, so this cannot happen.
		panic(fmt.Errorf("discovery: encoding %T: %w", v, err))
	}
	sum := sha256.Sum256(body)
	return document{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// Discovery holds every discovery document; it is safe for concurrent use.
type Discovery struct {
	coreVersions []string
	groupList    document
	groups       map[string]document // by group name
	lists        map[string]document // by "v1" or "group/version"
	aggCore      document
	aggNamed     document
}

// New builds every discovery document once (they are static). Within a
// group, versions are in preference order and the first one is preferred.
func New(resources []*registry.Resource) *Discovery {
	core, named := groupResources(resources)
	d := &Discovery{groups: map[string]document{}, lists: map[string]document{}}

	aggCore := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: aggListType}
	if core != nil {
		d.coreVersions = core.versions
		for _, v := range core.versions {
			d.lists[v] = newDocument(metav1.APIResourceList{
				TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList"},
				GroupVersion: v,
				APIResources: legacyResources(core.byVersion[v]),
			})
		}
		aggCore.Items = append(aggCore.Items, aggregatedGroup(core))
	}

	groupList := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
	aggNamed := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: aggListType, Items: []apidiscoveryv2.APIGroupDiscovery{}}
	for _, g := range named {
		apiGroup := legacyGroup(g)
		groupList.Groups = append(groupList.Groups, apiGroup)
		apiGroup.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		d.groups[g.name] = newDocument(apiGroup)
		for _, v := range g.versions {
			gv := groupVersion(g.name, v)
			d.lists[gv] = newDocument(metav1.APIResourceList{
				TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
				GroupVersion: gv,
				APIResources: legacyResources(g.byVersion[v]),
			})
		}
		aggNamed.Items = append(aggNamed.Items, aggregatedGroup(g))
	}
	d.groupList = newDocument(groupList)
	d.aggCore = newDocument(aggCore)
	d.aggNamed = newDocument(aggNamed)
	return d
}

var aggListType = metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}

func legacyGroup(g *group) metav1.APIGroup {
	out := metav1.APIGroup{Name: g.name}
	for _, v := range g.versions {
		out.Versions = append(out.Versions, metav1.GroupVersionForDiscovery{GroupVersion: groupVersion(g.name, v), Version: v})
	}
	out.PreferredVersion = out.Versions[0]
	return out
}

// ServeHTTP handles exactly /api, /api/v1, /apis, /apis/<group> and
// /apis/<group>/<version>; anything else is a 404 Status.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s is not supported on %s", r.Method, r.URL.Path))
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	aggregated := acceptsAggregated(r.Header.Values("Accept"))
	switch {
	case len(parts) == 1 && parts[0] == "api":
		if aggregated {
			writeDocument(w, r, d.aggCore, ContentTypeV2)
			return
		}
		d.serveAPIVersions(w, r)
		return
	case len(parts) == 1 && parts[0] == "apis":
		if aggregated {
			writeDocument(w, r, d.aggNamed, ContentTypeV2)
		} else {
			writeDocument(w, r, d.groupList, "application/json")
		}
		return
	case len(parts) == 2 && parts[0] == "api":
		if doc, ok := d.lists[parts[1]]; ok {
			writeDocument(w, r, doc, "application/json")
			return
		}
	case len(parts) == 2 && parts[0] == "apis":
		if doc, ok := d.groups[parts[1]]; ok {
			writeDocument(w, r, doc, "application/json")
			return
		}
	case len(parts) == 3 && parts[0] == "apis":
		if doc, ok := d.lists[parts[1]+"/"+parts[2]]; ok {
			writeDocument(w, r, doc, "application/json")
			return
		}
	}
	writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
}

// serveAPIVersions answers legacy /api, whose body names the address the
// client used, so it is built per request.
func (d *Discovery) serveAPIVersions(w http.ResponseWriter, r *http.Request) {
	versions := d.coreVersions
	if versions == nil {
		versions = []string{}
	}
	doc := newDocument(metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions"},
		Versions: versions,
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host},
		},
	})
	writeDocument(w, r, doc, "application/json")
}

// writeDocument writes doc, or 304 when the client already holds it.
func writeDocument(w http.ResponseWriter, r *http.Request, doc document, contentType string) {
	h := w.Header()
	h.Set("Vary", "Accept")
	h.Set("ETag", doc.etag)
	if etagMatches(r.Header.Get("If-None-Match"), doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", fmt.Sprint(len(doc.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc.body)
	}
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	body, _ := json.Marshal(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     int32(code),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
