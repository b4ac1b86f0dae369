package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what the URL path and method say about an API request.
type requestInfo struct {
	group, version string
	namespace      string
	resource       string
	name           string
	sub            string
	// watch is set by the legacy /watch/ path prefix or ?watch=true.
	watch bool
	verb  string
}

// parseRequest parses /api/v1/... and /apis/<group>/<version>/... paths.
// ok is false for paths that are not resource requests (discovery roots).
func parseRequest(r *http.Request) (requestInfo, bool) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var ri requestInfo
	var rest []string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		ri.version, rest = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		ri.group, ri.version, rest = parts[1], parts[2], parts[3:]
	default:
		return ri, false
	}
	if rest[0] == "watch" {
		ri.watch, rest = true, rest[1:]
	}
	if len(rest) >= 3 && rest[0] == "namespaces" && !(len(rest) == 3 && isNamespaceSub(rest[2])) {
		ri.namespace, rest = rest[1], rest[2:]
	}
	if len(rest) == 0 || rest[0] == "" {
		return ri, false
	}
	ri.resource = rest[0]
	if len(rest) > 1 {
		ri.name = rest[1]
	}
	if len(rest) > 2 {
		ri.sub = rest[2]
	}
	if r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" {
		ri.watch = true
	}
	ri.verb = verbOf(r.Method, ri)
	return ri, true
}

func isNamespaceSub(s string) bool { return s == "status" || s == "finalize" }

func verbOf(method string, ri requestInfo) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		switch {
		case ri.watch:
			return "watch"
		case ri.name == "":
			return "list"
		}
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if ri.name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return ""
}
