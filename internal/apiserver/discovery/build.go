package discovery

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/navarch/navarch/internal/registry"
)

// group is one API group with its versions in preference order.
type group struct {
	name     string
	versions []string
	// byVersion holds the resources of each version in registry order.
	byVersion map[string][]*registry.Resource
}

// groupResources splits the resource list into the core group and the named
// groups. Named groups keep the order of their first appearance so that the
// registry decides how `kubectl api-resources` is ordered; versions are
// sorted by Kubernetes version priority (v2 > v1 > v1beta1 > v1alpha1),
// which is what makes the first one the preferred version.
func groupResources(resources []*registry.Resource) (core *group, named []*group) {
	index := map[string]*group{}
	for _, r := range resources {
		g, ok := index[r.Group]
		if !ok {
			g = &group{name: r.Group, byVersion: map[string][]*registry.Resource{}}
			index[r.Group] = g
			if r.Group == "" {
				core = g
			} else {
				named = append(named, g)
			}
		}
		if _, ok := g.byVersion[r.Version]; !ok {
			g.versions = append(g.versions, r.Version)
		}
		g.byVersion[r.Version] = append(g.byVersion[r.Version], r)
	}
	for _, g := range index {
		slices.SortStableFunc(g.versions, func(a, b string) int {
			return -version.CompareKubeAwareVersionStrings(a, b)
		})
	}
	return core, named
}

// groupVersion formats "v1" for the core group and "apps/v1" otherwise.
func groupVersion(g, v string) string {
	if g == "" {
		return v
	}
	return g + "/" + v
}

// subresourceInfo is what discovery says about one subresource.
type subresourceInfo struct {
	group, version, kind string // empty group/version/kind: same as parent
	verbs                []string
}

var (
	readWrite    = []string{"get", "patch", "update"}
	createOnly   = []string{"create"}
	connectVerbs = []string{"create", "get"}
	proxyVerbs   = []string{"create", "delete", "get", "patch", "update"}
)

// knownSubresources mirrors what upstream advertises for each subresource;
// kubectl and client-go only look at name, kind and verbs.
var knownSubresources = map[string]subresourceInfo{
	"status":              {verbs: readWrite},
	"scale":               {group: "autoscaling", version: "v1", kind: "Scale", verbs: readWrite},
	"binding":             {kind: "Binding", verbs: createOnly},
	"eviction":            {group: "policy", version: "v1", kind: "Eviction", verbs: createOnly},
	"log":                 {kind: "Pod", verbs: []string{"get"}},
	"exec":                {kind: "PodExecOptions", verbs: connectVerbs},
	"attach":              {kind: "PodAttachOptions", verbs: connectVerbs},
	"portforward":         {kind: "PodPortForwardOptions", verbs: connectVerbs},
	"token":               {group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: createOnly},
	"finalize":            {verbs: []string{"update"}},
	"ephemeralcontainers": {verbs: readWrite},
	"resize":              {verbs: readWrite},
	"approval":            {verbs: readWrite},
}

// proxyKinds names the options kind of each resource's proxy subresource.
var proxyKinds = map[string]string{"pods": "PodProxyOptions", "nodes": "NodeProxyOptions", "services": "ServiceProxyOptions"}

// subresourceNames lists the subresources of r: status and scale from the
// flags, then the extra ones, without duplicates.
func subresourceNames(r *registry.Resource) []string {
	var names []string
	if r.HasStatus {
		names = append(names, "status")
	}
	if r.Scale != nil {
		names = append(names, "scale")
	}
	for _, s := range r.Subresources {
		if !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	return names
}

// describeSubresource returns the full group/version/kind and verbs of a
// subresource of r; unknown subresources read and write the parent kind.
func describeSubresource(r *registry.Resource, name string) subresourceInfo {
	info, ok := knownSubresources[name]
	if name == "proxy" {
		info, ok = subresourceInfo{kind: proxyKinds[r.Resource], verbs: proxyVerbs}, true
		if info.kind == "" {
			info.kind = r.Kind
		}
	}
	if !ok {
		info = subresourceInfo{verbs: readWrite}
	}
	if info.kind == "" {
		info.kind = r.Kind
	}
	if info.group == "" && info.version == "" {
		info.group, info.version = r.Group, r.Version
	}
	return info
}

// storageVersionHash is a stable opaque hash of the version a resource is
// stored as, so that resources sharing storage report the same value.
func storageVersionHash(r *registry.Resource) string {
	gvr := r.GVR()
	if r.Conversion != nil {
		gvr = r.Conversion.Storage
	}
	sum := sha256.Sum256([]byte(gvr.Group + "/" + gvr.Version + "/" + gvr.Resource))
	return base64.StdEncoding.EncodeToString(sum[:8])
}

// legacyResources builds the entries of an APIResourceList, sorted by name
// as upstream does, with subresources following their parent.
func legacyResources(rs []*registry.Resource) []metav1.APIResource {
	var out []metav1.APIResource
	for _, r := range rs {
		out = append(out, metav1.APIResource{
			Name:               r.Resource,
			SingularName:       r.Singular,
			Namespaced:         r.Namespaced,
			Kind:               r.Kind,
			Verbs:              metav1.Verbs(slices.Clone(r.AllVerbs())),
			ShortNames:         r.ShortNames,
			Categories:         r.Categories,
			StorageVersionHash: storageVersionHash(r),
		})
		for _, name := range subresourceNames(r) {
			info := describeSubresource(r, name)
			e := metav1.APIResource{
				Name:       r.Resource + "/" + name,
				Namespaced: r.Namespaced,
				Kind:       info.kind,
				Verbs:      metav1.Verbs(info.verbs),
			}
			// Group and version are only spelled out when they differ from
			// the list's own group-version.
			if info.group != r.Group || info.version != r.Version {
				e.Group, e.Version = info.group, info.version
			}
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b metav1.APIResource) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// aggregatedGroup builds the v2 discovery entry of one group.
func aggregatedGroup(g *group) apidiscoveryv2.APIGroupDiscovery {
	out := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.name}}
	for _, v := range g.versions {
		vd := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		rs := slices.Clone(g.byVersion[v])
		slices.SortStableFunc(rs, func(a, b *registry.Resource) int { return strings.Compare(a.Resource, b.Resource) })
		for _, r := range rs {
			vd.Resources = append(vd.Resources, aggregatedResource(r))
		}
		out.Versions = append(out.Versions, vd)
	}
	return out
}

func aggregatedResource(r *registry.Resource) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if r.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	out := apidiscoveryv2.APIResourceDiscovery{
		Resource:         r.Resource,
		ResponseKind:     &metav1.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind},
		Scope:            scope,
		SingularResource: r.Singular,
		Verbs:            slices.Clone(r.AllVerbs()),
		ShortNames:       r.ShortNames,
		Categories:       r.Categories,
	}
	for _, name := range subresourceNames(r) {
		info := describeSubresource(r, name)
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource:  name,
			ResponseKind: &metav1.GroupVersionKind{Group: info.group, Version: info.version, Kind: info.kind},
			Verbs:        info.verbs,
		})
	}
	return out
}
