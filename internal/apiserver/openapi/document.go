package openapi

import (
	"fmt"
	"reflect"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
)

// model is everything both documents are rendered from.
type model struct {
	defs *definitions
	// paths by group-version ("v1", "apps/v1"), in registry order.
	paths map[string][]pathItem
	order []string
}

// buildModel walks every resource's Go types and lays out its paths.
func buildModel(resources []*registry.Resource) (*model, error) {
	m := &model{defs: newDefinitions(), paths: map[string][]pathItem{}}
	gvks := map[string][]schema.GroupVersionKind{}
	addGVK := func(name string, gvk schema.GroupVersionKind) {
		for _, g := range gvks[name] {
			if g == gvk {
				return
			}
		}
		gvks[name] = append(gvks[name], gvk)
	}
	var groupVersions []schema.GroupVersion
	for _, r := range resources {
		if r.New == nil || r.NewList == nil {
			return nil, fmt.Errorf("openapi: resource %s has no Go type", r.GVR())
		}
		kindDef := m.defs.define(reflect.TypeOf(r.New()).Elem())
		listDef := m.defs.define(reflect.TypeOf(r.NewList()).Elem())
		addGVK(kindDef, r.GVK())
		addGVK(listDef, r.GVK().GroupVersion().WithKind(r.Kind+"List"))
		if r.Scale != nil {
			addGVK(m.defs.define(typeScale), schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"})
		}
		gv := r.GVK().GroupVersion()
		key := gv.String()
		if _, ok := m.paths[key]; !ok {
			m.order = append(m.order, key)
			groupVersions = append(groupVersions, gv)
		}
		m.paths[key] = append(m.paths[key], resourcePaths(r, kindDef, listDef)...)
	}
	// The shared meta types are served by every group-version, and upstream
	// says so in their extension.
	for _, t := range []reflect.Type{reflect.TypeFor[metav1.DeleteOptions](), reflect.TypeFor[metav1.Status](), reflect.TypeFor[metav1.WatchEvent]()} {
		name := m.defs.define(t)
		for _, gv := range groupVersions {
			if t == reflect.TypeFor[metav1.Status]() && gv.Group != "" {
				continue // upstream lists Status under core v1 only
			}
			addGVK(name, gv.WithKind(t.Name()))
		}
	}
	m.defs.define(reflect.TypeFor[metav1.Patch]())
	m.defs.byName[defPatch].Properties = nil
	for name, list := range gvks {
		sort.SliceStable(list, func(i, j int) bool { return list[i].String() < list[j].String() })
		var ext []any
		for _, g := range list {
			ext = append(ext, map[string]any{"group": g.Group, "version": g.Version, "kind": g.Kind})
		}
		m.defs.byName[name].extension("x-kubernetes-group-version-kind", ext)
	}
	return m, nil
}

// gvkExtension is the single-object form used on operations.
func gvkExtension(gvk schema.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

var (
	mediaTypes   = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	watchTypes   = []string{"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"}
	patchTypes   = []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	versionStamp = func(version string) map[string]any { return map[string]any{"title": "Kubernetes", "version": version} }
	bearerToken  = map[string]any{"BearerToken": map[string]any{
		"description": "Bearer Token authentication", "type": "apiKey", "name": "authorization", "in": "header",
	}}
)

// responseCodes lists the success codes and their descriptions.
func (op operation) responseCodes() [][2]string {
	codes := [][2]string{{"200", "OK"}}
	if op.created {
		switch op.method {
		case "post":
			codes = append(codes, [2]string{"201", "Created"}, [2]string{"202", "Accepted"})
		case "put":
			codes = append(codes, [2]string{"201", "Created"})
		case "delete":
			codes = append(codes, [2]string{"202", "Accepted"})
		}
	}
	if op.patch {
		codes = append(codes, [2]string{"201", "Created"})
	}
	return codes
}

func (op operation) produces() []string {
	if op.action == "list" {
		return append(append([]string{}, mediaTypes...), watchTypes...)
	}
	return mediaTypes
}

func (op operation) consumes() []string {
	if op.patch {
		return patchTypes
	}
	return []string{"*/*"}
}

func (op operation) summary() string {
	if op.description != "" {
		return op.description
	}
	return op.action + " " + op.gvk.Kind
}

// pathParams are the parameters shared by a path's operations.
func (p pathItem) pathParams() []param {
	var out []param
	if p.named {
		out = append(out, param{"name", "string", "name of the " + p.kind()})
	}
	if p.namespaced {
		out = append(out, param{"namespace", "string", "object name and auth scope, such as for teams and projects"})
	}
	return append(out, pPretty)
}

func (p pathItem) kind() string {
	if len(p.ops) == 0 {
		return "object"
	}
	return p.ops[0].gvk.Kind
}
