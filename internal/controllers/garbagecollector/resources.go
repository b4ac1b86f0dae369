package garbagecollector

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// apiResource is one served resource in one version.
type apiResource struct {
	gvr        schema.GroupVersionResource
	gvk        schema.GroupVersionKind
	namespaced bool
}

// ignored resources are never garbage collected, as upstream: events are
// many, short-lived and never own anything.
var ignored = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// deletable lists the preferred version of every resource the collector
// can watch and delete. With a partial discovery failure it returns what
// it found and the error.
func deletable(disc discovery.DiscoveryInterface) (map[schema.GroupVersionResource]apiResource, error) {
	lists, err := discovery.ServerPreferredResources(disc)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	out := map[schema.GroupVersionResource]apiResource{}
	for _, r := range flatten(lists) {
		if ignored[r.gvr.GroupResource()] || !hasVerbs(r, "list", "watch", "delete") {
			continue
		}
		out[r.gvr] = r.apiResource
	}
	return out, err
}

type discovered struct {
	apiResource
	verbs []string
}

func hasVerbs(r discovered, verbs ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(r.verbs, v) {
			return false
		}
	}
	return true
}

// flatten turns discovery lists into resources, skipping subresources.
func flatten(lists []*metav1.APIResourceList) []discovered {
	var out []discovered
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			out = append(out, discovered{
				apiResource: apiResource{gvr: gv.WithResource(r.Name), gvk: gv.WithKind(r.Kind), namespaced: r.Namespaced},
				verbs:       r.Verbs,
			})
		}
	}
	return out
}

// mapper resolves the apiVersion and kind of an ownerReference to a
// resource, across every served version.
type mapper struct {
	disc discovery.DiscoveryInterface
	// minRefresh rate-limits rediscovery on lookups of unknown kinds.
	minRefresh time.Duration

	mu        sync.RWMutex
	byGVK     map[schema.GroupVersionKind]apiResource
	refreshed time.Time
}

func newMapper(disc discovery.DiscoveryInterface) *mapper {
	return &mapper{disc: disc, minRefresh: 5 * time.Second, byGVK: map[schema.GroupVersionKind]apiResource{}}
}

// refresh rediscovers every served resource.
func (m *mapper) refresh() error {
	_, lists, err := m.disc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return err
	}
	by := map[schema.GroupVersionKind]apiResource{}
	for _, r := range flatten(lists) {
		by[r.gvk] = r.apiResource
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Keep what a partly failed discovery did not return.
	for k, v := range m.byGVK {
		if _, ok := by[k]; !ok && err != nil {
			by[k] = v
		}
	}
	m.byGVK, m.refreshed = by, time.Now()
	return nil
}

// errUnknownKind: no served resource has the kind.
var errUnknownKind = errors.New("no resource serves this kind")

func (m *mapper) lookup(apiVersion, kind string) (apiResource, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return apiResource{}, fmt.Errorf("owner apiVersion %q: %w", apiVersion, err)
	}
	gvk := gv.WithKind(kind)
	m.mu.RLock()
	r, ok := m.byGVK[gvk]
	stale := time.Since(m.refreshed) > m.minRefresh
	m.mu.RUnlock()
	if ok {
		return r, nil
	}
	if stale {
		if err := m.refresh(); err != nil {
			return apiResource{}, err
		}
		m.mu.RLock()
		r, ok = m.byGVK[gvk]
		m.mu.RUnlock()
		if ok {
			return r, nil
		}
	}
	return apiResource{}, fmt.Errorf("%s: %w", gvk, errUnknownKind)
}
