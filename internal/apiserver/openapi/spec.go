package openapi

// isPathParam tells path parameters from query ones; only name and
// namespace ever appear in a URL template.
func isPathParam(p param) bool { return p.name == "name" || p.name == "namespace" }

// v2Param renders a Swagger 2.0 non-body parameter.
func v2Param(p param) map[string]any {
	out := map[string]any{"name": p.name, "type": p.typ, "description": p.description, "uniqueItems": true}
	if isPathParam(p) {
		out["in"], out["required"] = "path", true
	} else {
		out["in"] = "query"
	}
	return out
}

// v3Param renders an OpenAPI 3.0 parameter.
func v3Param(p param) map[string]any {
	out := map[string]any{"name": p.name, "description": p.description, "schema": map[string]any{"type": p.typ, "uniqueItems": true}}
	if isPathParam(p) {
		out["in"], out["required"] = "path", true
	} else {
		out["in"] = "query"
	}
	return out
}

func (m *model) v2Operation(op operation) map[string]any {
	params := []any{}
	if op.body != "" {
		params = append(params, map[string]any{
			"name": "body", "in": "body", "required": !op.patch && op.method != "delete",
			"schema": map[string]any{"$ref": v2.refPrefix() + op.body},
		})
	}
	for _, p := range op.params {
		params = append(params, v2Param(p))
	}
	responses := map[string]any{"401": map[string]any{"description": "Unauthorized"}}
	for _, c := range op.responseCodes() {
		responses[c[0]] = map[string]any{"description": c[1], "schema": map[string]any{"$ref": v2.refPrefix() + op.response}}
	}
	return map[string]any{
		"description":                     op.summary(),
		"operationId":                     op.id,
		"consumes":                        op.consumes(),
		"produces":                        op.produces(),
		"schemes":                         []string{"https"},
		"parameters":                      params,
		"responses":                       responses,
		"x-kubernetes-action":             op.action,
		"x-kubernetes-group-version-kind": gvkExtension(op.gvk),
	}
}

func (m *model) v3Operation(op operation) map[string]any {
	out := map[string]any{
		"description":                     op.summary(),
		"operationId":                     op.id,
		"x-kubernetes-action":             op.action,
		"x-kubernetes-group-version-kind": gvkExtension(op.gvk),
	}
	var params []any
	for _, p := range op.params {
		params = append(params, v3Param(p))
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	if op.body != "" {
		content := map[string]any{}
		for _, t := range op.consumes() {
			content[t] = map[string]any{"schema": map[string]any{"$ref": v3.refPrefix() + op.body}}
		}
		out["requestBody"] = map[string]any{"content": content, "required": !op.patch && op.method != "delete"}
	}
	responses := map[string]any{"401": map[string]any{"description": "Unauthorized"}}
	for _, c := range op.responseCodes() {
		content := map[string]any{}
		for _, t := range op.produces() {
			content[t] = map[string]any{"schema": map[string]any{"$ref": v3.refPrefix() + op.response}}
		}
		responses[c[0]] = map[string]any{"description": c[1], "content": content}
	}
	out["responses"] = responses
	return out
}

// renderPaths renders the path items of the given group-versions and
// returns the definitions they reach.
func (m *model) renderPaths(d dialect, gvs []string) (map[string]any, []string) {
	paths := map[string]any{}
	var roots []string
	for _, gv := range gvs {
		for _, item := range m.paths[gv] {
			rendered := map[string]any{}
			var shared []any
			for _, p := range item.pathParams() {
				if d == v2 {
					shared = append(shared, v2Param(p))
				} else {
					shared = append(shared, v3Param(p))
				}
			}
			rendered["parameters"] = shared
			for _, op := range item.ops {
				if d == v2 {
					rendered[op.method] = m.v2Operation(op)
				} else {
					rendered[op.method] = m.v3Operation(op)
				}
				roots = append(roots, op.definitionRoots()...)
			}
			paths[item.path] = rendered
		}
	}
	return paths, roots
}

func renderDefinitions(d dialect, defs map[string]*Schema) map[string]any {
	out := make(map[string]any, len(defs))
	for name, s := range defs {
		out[name] = s.render(d)
	}
	return out
}

// v2Document is the Swagger 2.0 document of every group-version.
func (m *model) v2Document(version string) map[string]any {
	paths, roots := m.renderPaths(v2, m.order)
	return map[string]any{
		"swagger":             "2.0",
		"info":                versionStamp(version),
		"paths":               paths,
		"definitions":         renderDefinitions(v2, m.defs.closure(roots)),
		"securityDefinitions": bearerToken,
		"security":            []any{map[string]any{"BearerToken": []any{}}},
	}
}

// v3Document is the OpenAPI 3.0 document of one group-version.
func (m *model) v3Document(gv, version string) map[string]any {
	paths, roots := m.renderPaths(v3, []string{gv})
	return map[string]any{
		"openapi": "3.0.0",
		"info":    versionStamp(version),
		"paths":   paths,
		"components": map[string]any{
			"schemas":         renderDefinitions(v3, m.defs.closure(roots)),
			"securitySchemes": bearerToken,
		},
		"security": []any{map[string]any{"BearerToken": []any{}}},
	}
}
