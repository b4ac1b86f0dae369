package openapi

import (
	"reflect"
	"slices"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/navarch/navarch/internal/registry"
)

// param is a query parameter.
type param struct {
	name, typ, description string
}

// operation is one HTTP method on one path, dialect-neutral.
type operation struct {
	method, id, action, description string
	gvk                             schema.GroupVersionKind
	params                          []param
	// body and response name definitions; body is empty for reads.
	body, response string
	patch          bool
	// created adds the 201/202 responses of writes.
	created bool
}

// pathItem is one URL template with its operations.
type pathItem struct {
	path       string
	namespaced bool
	named      bool
	ops        []operation
}

var (
	pPretty = param{"pretty", "string", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."}
	// Write parameters: kubectl looks for fieldValidation on PATCH to learn
	// that the server validates fields itself.
	writeParams = []param{
		{"dryRun", "string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"},
		{"fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."},
		{"fieldValidation", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict"},
	}
	pForce     = param{"force", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."}
	listParams = []param{
		{"allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."},
		{"continue", "string", "The continue option should be set when retrieving more results from the server."},
		{"fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."},
		{"labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."},
		{"limit", "integer", "limit is a maximum number of responses to return for a list call."},
		{"resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from."},
		{"resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls."},
		{"sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`."},
		{"timeoutSeconds", "integer", "Timeout for the list/watch call."},
		{"watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."},
	}
	deleteParams = []param{
		{"dryRun", "string", writeParams[0].description},
		{"gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."},
		{"orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy."},
		{"propagationPolicy", "string", "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."},
	}
)

// Shared definitions every document may use.
var (
	defDeleteOptions = definitionName(reflect.TypeFor[metav1.DeleteOptions]())
	defStatus        = definitionName(reflect.TypeFor[metav1.Status]())
	defWatchEvent    = definitionName(reflect.TypeFor[metav1.WatchEvent]())
	defPatch         = definitionName(reflect.TypeFor[metav1.Patch]())
	typeScale        = reflect.TypeFor[autoscalingv1.Scale]()
)

// operationPrefix spells the group and version as upstream operation IDs
// do: "" → "CoreV1", "rbac.authorization.k8s.io" v1 → "RbacAuthorizationV1".
func operationPrefix(group, version string) string {
	if group == "" {
		group = "core"
	}
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimSuffix(group, ".k8s.io"), ".") {
		b.WriteString(title(strings.ReplaceAll(part, "-", "")))
	}
	b.WriteString(title(version))
	return b.String()
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// basePath is /api/v1 or /apis/<group>/<version>.
func basePath(group, version string) string {
	if group == "" {
		return "/api/" + version
	}
	return "/apis/" + group + "/" + version
}

// resourcePaths lists the paths and operations of one resource, following
// its verbs. listName and kindName are the definitions of the list and
// object types.
func resourcePaths(r *registry.Resource, kindDef, listDef string) []pathItem {
	verbs := r.AllVerbs()
	has := func(v string) bool { return slices.Contains(verbs, v) }
	gvk := r.GVK()
	prefix := operationPrefix(r.Group, r.Version)
	scope := ""
	collection := basePath(r.Group, r.Version) + "/" + r.Resource
	if r.Namespaced {
		scope = "Namespaced"
		collection = basePath(r.Group, r.Version) + "/namespaces/{namespace}/" + r.Resource
	}
	id := func(verb, suffix string) string { return verb + prefix + scope + r.Kind + suffix }
	write := func(method, verb, action, suffix, def string, k schema.GroupVersionKind) operation {
		op := operation{method: method, id: id(verb, suffix), action: action, gvk: k, body: def, response: def, created: method != "patch"}
		op.params = slices.Clone(writeParams)
		if method == "patch" {
			op.params = append(op.params, pForce)
			op.body, op.patch = defPatch, true
		}
		return op
	}

	var items []pathItem
	if r.Namespaced && has("list") {
		items = append(items, pathItem{path: basePath(r.Group, r.Version) + "/" + r.Resource, ops: []operation{{
			method: "get", id: "list" + prefix + r.Kind + "ForAllNamespaces", action: "list", gvk: gvk,
			params: listParams, response: listDef,
		}}})
	}
	coll := pathItem{path: collection, namespaced: r.Namespaced}
	if has("list") {
		coll.ops = append(coll.ops, operation{method: "get", id: id("list", ""), action: "list", gvk: gvk, params: listParams, response: listDef})
	}
	if has("create") {
		coll.ops = append(coll.ops, write("post", "create", "post", "", kindDef, gvk))
	}
	if has("deletecollection") {
		coll.ops = append(coll.ops, operation{method: "delete", id: id("deletecollection", ""), action: "deletecollection", gvk: gvk,
			params: append(slices.Clone(deleteParams), listParams...), body: defDeleteOptions, response: defStatus})
	}
	item := pathItem{path: collection + "/{name}", namespaced: r.Namespaced, named: true}
	if has("get") {
		item.ops = append(item.ops, operation{method: "get", id: id("read", ""), action: "get", gvk: gvk, response: kindDef})
	}
	if has("update") {
		item.ops = append(item.ops, write("put", "replace", "put", "", kindDef, gvk))
	}
	if has("patch") {
		item.ops = append(item.ops, write("patch", "patch", "patch", "", kindDef, gvk))
	}
	if has("delete") {
		item.ops = append(item.ops, operation{method: "delete", id: id("delete", ""), action: "delete", gvk: gvk,
			params: deleteParams, body: defDeleteOptions, response: kindDef, created: true})
	}
	items = append(items, coll, item)
	if r.HasStatus {
		items = append(items, subresourcePath(item.path+"/status", r.Namespaced, id, "Status", kindDef, gvk, write))
	}
	if r.Scale != nil {
		scaleGVK := schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
		items = append(items, subresourcePath(item.path+"/scale", r.Namespaced, id, "Scale", definitionName(typeScale), scaleGVK, write))
	}
	return nonEmpty(items)
}

// subresourcePath is the get/put/patch trio of /status and /scale.
func subresourcePath(path string, namespaced bool, id func(string, string) string, suffix, def string, gvk schema.GroupVersionKind,
	write func(string, string, string, string, string, schema.GroupVersionKind) operation) pathItem {
	return pathItem{path: path, namespaced: namespaced, named: true, ops: []operation{
		{method: "get", id: id("read", suffix), action: "get", gvk: gvk, response: def},
		write("put", "replace", "put", suffix, def, gvk),
		write("patch", "patch", "patch", suffix, def, gvk),
	}}
}

func nonEmpty(items []pathItem) []pathItem {
	return slices.DeleteFunc(items, func(p pathItem) bool { return len(p.ops) == 0 })
}

// definitionRoots lists the definitions an operation refers to.
func (op operation) definitionRoots() []string {
	roots := []string{defStatus}
	for _, d := range []string{op.body, op.response} {
		if d != "" {
			roots = append(roots, d)
		}
	}
	if op.action == "list" {
		roots = append(roots, defWatchEvent)
	}
	return roots
}
