package openapi

import (
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Schema is a dialect-neutral JSON schema node; render turns it into the
// Swagger 2.0 or OpenAPI 3.0 spelling.
type Schema struct {
	// Ref names a definition; when set, only Description accompanies it.
	Ref         string
	Type        string
	Format      string
	Description string
	Items       *Schema
	// AdditionalProperties describes map values.
	AdditionalProperties *Schema
	Properties           map[string]*Schema
	Required             []string
	// Extensions are x-kubernetes-* keys common to both dialects.
	Extensions map[string]any
	// OneOfTypes lists alternative primitive types, used by OpenAPI v3 only
	// (Swagger 2.0 has no oneOf, so there Type/Format apply).
	OneOfTypes []string
	// IntOrString marks intstr.IntOrString for the v3 extension.
	IntOrString bool
}

// Well-known types whose JSON form is not their Go structure.
var (
	typeFieldsV1     = reflect.TypeFor[metav1.FieldsV1]()
	typeRawExtension = reflect.TypeFor[runtime.RawExtension]()
	typeUnknown      = reflect.TypeFor[runtime.Unknown]()
)

// requiredFields is deliberately short: a wrong "required" makes clients
// reject valid objects, so only fields every server rejects when missing
// are listed.
var requiredFields = map[string][]string{
	"io.k8s.api.core.v1.PodSpec":         {"containers"},
	"io.k8s.api.core.v1.Container":       {"name"},
	"io.k8s.api.apps.v1.DeploymentSpec":  {"selector", "template"},
	"io.k8s.api.apps.v1.DaemonSetSpec":   {"selector", "template"},
	"io.k8s.api.apps.v1.StatefulSetSpec": {"selector", "template"},
	"io.k8s.api.apps.v1.ReplicaSetSpec":  {"selector"},
}

// wellKnownDocs describes the apimachinery types that carry no SwaggerDoc.
var wellKnownDocs = map[string]string{
	"io.k8s.apimachinery.pkg.api.resource.Quantity":   "Quantity is a fixed-point representation of a number, serialized as a string such as \"100m\", \"1.5Gi\" or \"2\" (decimal SI, binary SI or decimal exponent suffixes).",
	"io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString is a type that can hold an int32 or a string.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.Time":       "Time is a timestamp serialized in RFC 3339 form with second precision.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":  "MicroTime is a timestamp serialized in RFC 3339 form with microsecond precision.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.Duration":   "Duration is a time span serialized as a Go duration string such as \"1h30m\".",
	"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1":   "FieldsV1 stores a set of fields in a trie-like JSON object, as used by managedFields.",
	"io.k8s.apimachinery.pkg.runtime.RawExtension":    "RawExtension holds an arbitrary embedded object, serialized as that object's own JSON.",
}

// swaggerDocer is implemented by every k8s.io/api type.
type swaggerDocer interface{ SwaggerDoc() map[string]string }

type openAPITyper interface{ OpenAPISchemaType() []string }
type openAPIFormatter interface{ OpenAPISchemaFormat() string }
type openAPIV3OneOfTyper interface{ OpenAPIV3OneOfTypes() []string }

// definitions accumulates named schemas while walking Go types.
type definitions struct {
	byName map[string]*Schema
	types  map[string]reflect.Type
}

func newDefinitions() *definitions {
	return &definitions{byName: map[string]*Schema{}, types: map[string]reflect.Type{}}
}

// definitionName turns k8s.io/api/apps/v1.Deployment into
// io.k8s.api.apps.v1.Deployment: the host is reversed, the path dotted.
func definitionName(t reflect.Type) string {
	path := t.PkgPath()
	host, rest, _ := strings.Cut(path, "/")
	labels := strings.Split(host, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	parts := append(labels, strings.Split(rest, "/")...)
	name := strings.Join(parts, ".") + "." + t.Name()
	return strings.ReplaceAll(name, "..", ".")
}

// zero returns a zero value of t for method lookups.
func zero(t reflect.Type) any { return reflect.New(t).Elem().Interface() }

func docsOf(t reflect.Type) map[string]string {
	if d, ok := zero(t).(swaggerDocer); ok {
		return d.SwaggerDoc()
	}
	return nil
}

// define ensures t has a definition and returns its name.
func (d *definitions) define(t reflect.Type) string {
	name := definitionName(t)
	if _, ok := d.byName[name]; ok {
		return name
	}
	s := &Schema{}
	// Registered before filling in, so recursive types (JSONSchemaProps
	// style) terminate.
	d.byName[name] = s
	d.types[name] = t
	*s = d.structure(t)
	s.Description = docsOf(t)[""]
	if s.Description == "" {
		s.Description = wellKnownDocs[name]
	}
	s.Required = requiredFields[name]
	return name
}

// structure describes t's own JSON form (never a reference to t itself).
func (d *definitions) structure(t reflect.Type) Schema {
	if typer, ok := zero(t).(openAPITyper); ok {
		s := Schema{Type: typer.OpenAPISchemaType()[0]}
		if f, ok := zero(t).(openAPIFormatter); ok {
			s.Format = f.OpenAPISchemaFormat()
		}
		if o, ok := zero(t).(openAPIV3OneOfTyper); ok {
			s.OneOfTypes = o.OpenAPIV3OneOfTypes()
		}
		s.IntOrString = s.Format == "int-or-string"
		return s
	}
	switch t {
	case typeFieldsV1, typeRawExtension, typeUnknown:
		return Schema{Type: "object"}
	}
	s := Schema{Type: "object", Properties: map[string]*Schema{}}
	d.addFields(&s, t)
	return s
}

// addFields adds t's JSON fields to s, flattening inlined structs the way
// encoding/json does.
func (d *definitions) addFields(s *Schema, t reflect.Type) {
	docs := docsOf(t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && ft.Kind() == reflect.Struct && (name == "" || strings.Contains(opts, "inline")) {
			d.addFields(s, ft)
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := d.schemaFor(f.Type)
		if desc := docs[name]; desc != "" {
			p.Description = desc
		}
		if v := f.Tag.Get("patchStrategy"); v != "" {
			p.extension("x-kubernetes-patch-strategy", v)
		}
		if v := f.Tag.Get("patchMergeKey"); v != "" {
			p.extension("x-kubernetes-patch-merge-key", v)
		}
		s.Properties[name] = p
	}
}

func (s *Schema) extension(key string, value any) {
	if s.Extensions == nil {
		s.Extensions = map[string]any{}
	}
	s.Extensions[key] = value
}

// schemaFor returns the schema of a field of type t: named structs and
// well-known types become references, everything else is inline.
func (d *definitions) schemaFor(t reflect.Type) *Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() != "" && t.Name() != "" {
		if _, ok := zero(t).(openAPITyper); ok || t.Kind() == reflect.Struct {
			return &Schema{Ref: d.define(t)}
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Float32:
		return &Schema{Type: "number", Format: "float"}
	case reflect.Float64:
		return &Schema{Type: "number", Format: "double"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: "string", Format: "byte"}
		}
		return &Schema{Type: "array", Items: d.schemaFor(t.Elem())}
	case reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: d.schemaFor(t.Elem())}
	case reflect.Struct:
		// Anonymous struct types have no name to define.
		s := d.structure(t)
		return &s
	}
	// Interfaces and anything else: arbitrary JSON.
	return &Schema{Type: "object"}
}
