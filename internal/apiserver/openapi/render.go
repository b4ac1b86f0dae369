package openapi

// dialect selects the Swagger 2.0 or OpenAPI 3.0 spelling of a schema.
type dialect int

const (
	v2 dialect = iota
	v3
)

// refPrefix is where each dialect keeps its named schemas.
func (d dialect) refPrefix() string {
	if d == v2 {
		return "#/definitions/"
	}
	return "#/components/schemas/"
}

// render encodes s as a JSON-ready map. Maps are used so that encoding sorts
// keys, which keeps the bytes (and so the hashes and ETags) stable.
func (s *Schema) render(d dialect) map[string]any {
	out := map[string]any{}
	if s.Description != "" {
		out["description"] = s.Description
	}
	for k, v := range s.Extensions {
		out[k] = v
	}
	if s.Ref != "" {
		ref := map[string]any{"$ref": d.refPrefix() + s.Ref}
		if d == v2 || len(out) == 0 {
			for k, v := range out {
				ref[k] = v
			}
			return ref
		}
		// OpenAPI 3.0 ignores siblings of $ref, so upstream wraps it.
		out["allOf"] = []any{ref}
		return out
	}
	switch {
	case d == v3 && s.IntOrString:
		out["x-kubernetes-int-or-string"] = true
		out["anyOf"] = oneOfTypes(s.OneOfTypes)
	case d == v3 && len(s.OneOfTypes) > 0:
		out["oneOf"] = oneOfTypes(s.OneOfTypes)
	default:
		if s.Type != "" {
			out["type"] = s.Type
		}
		if s.Format != "" {
			out["format"] = s.Format
		}
	}
	if s.Items != nil {
		out["items"] = s.Items.render(d)
	}
	if s.AdditionalProperties != nil {
		out["additionalProperties"] = s.AdditionalProperties.render(d)
	}
	if len(s.Properties) > 0 {
		props := map[string]any{}
		for name, p := range s.Properties {
			props[name] = p.render(d)
		}
		out["properties"] = props
	}
	if len(s.Required) > 0 {
		out["required"] = s.Required
	}
	return out
}

func oneOfTypes(types []string) []any {
	out := make([]any, len(types))
	for i, t := range types {
		out[i] = map[string]any{"type": t}
	}
	return out
}

// refs calls visit for every definition s references directly.
func (s *Schema) refs(visit func(string)) {
	if s == nil {
		return
	}
	if s.Ref != "" {
		visit(s.Ref)
	}
	s.Items.refs(visit)
	s.AdditionalProperties.refs(visit)
	for _, p := range s.Properties {
		p.refs(visit)
	}
}

// closure returns roots plus every definition reachable from them.
func (d *definitions) closure(roots []string) map[string]*Schema {
	out := map[string]*Schema{}
	var walk func(string)
	walk = func(name string) {
		if _, ok := out[name]; ok {
			return
		}
		s, ok := d.byName[name]
		if !ok {
			return
		}
		out[name] = s
		s.refs(walk)
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}
