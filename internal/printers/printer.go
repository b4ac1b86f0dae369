package printers

import (
	"fmt"
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printer produces the columns and cells for one resource.
type Printer interface {
	Columns() []metav1.TableColumnDefinition
	// Cells returns the row cells for one object, in column order.
	Cells(obj runtime.Object, now time.Time) ([]interface{}, error)
}

// rowConditioner is implemented by printers that annotate rows with
// conditions (pods mark finished rows "Completed", as upstream does).
type rowConditioner interface {
	RowConditions(obj runtime.Object) []metav1.TableRowCondition
}

// registry maps a group/resource to its printer; filled by init functions
// in the per-group files so each file stays self-contained.
var registry = map[schema.GroupResource]Printer{}

func register(group, resource string, p Printer) {
	registry[schema.GroupResource{Group: group, Resource: resource}] = p
}

// For returns the printer for the group/resource, or the default
// NAME / CREATED AT printer for anything without a dedicated one.
func For(gr schema.GroupResource) Printer {
	if p, ok := registry[gr]; ok {
		return p
	}
	return defaultPrinter{}
}

// typed adapts a function over one concrete API type to the Printer
// interface. Unstructured input is converted first so callers that keep
// objects as maps (e.g. after a JSON patch) still get proper columns.
type typed[T runtime.Object] struct {
	cols  []metav1.TableColumnDefinition
	cells func(obj T, now time.Time) ([]interface{}, error)
}

func (p typed[T]) Columns() []metav1.TableColumnDefinition {
	return append([]metav1.TableColumnDefinition(nil), p.cols...)
}

func (p typed[T]) Cells(obj runtime.Object, now time.Time) ([]interface{}, error) {
	t, err := as[T](obj)
	if err != nil {
		return nil, err
	}
	return p.cells(t, now)
}

// as converts obj to the concrete pointer type T, decoding unstructured
// content when necessary.
func as[T runtime.Object](obj runtime.Object) (T, error) {
	var zero T
	if t, ok := obj.(T); ok {
		return t, nil
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return zero, fmt.Errorf("printers: want %T, got %T", zero, obj)
	}
	typ := reflect.TypeOf(zero)
	if typ == nil || typ.Kind() != reflect.Pointer {
		return zero, fmt.Errorf("printers: cannot convert unstructured to %T", zero)
	}
	t := reflect.New(typ.Elem()).Interface().(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return zero, fmt.Errorf("printers: converting unstructured %s: %w", u.GetKind(), err)
	}
	return t, nil
}

// col builds a column definition; the helpers below keep the per-resource
// tables short and readable.
func col(name, typ, desc string, priority int32) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc, Priority: priority}
}

func nameCol() metav1.TableColumnDefinition {
	c := col("Name", "string", "Name must be unique within a namespace.", 0)
	c.Format = "name"
	return c
}

func ageCol() metav1.TableColumnDefinition {
	return col("Age", "string", "Time elapsed since the object was created.", 0)
}

func str(name, desc string) metav1.TableColumnDefinition { return col(name, "string", desc, 0) }
func num(name, desc string) metav1.TableColumnDefinition { return col(name, "integer", desc, 0) }
func wide(name, desc string) metav1.TableColumnDefinition {
	return col(name, "string", desc, 1)
}

// defaultPrinter mirrors upstream's fallback table: the name and the
// creation timestamp as an RFC 3339 string in a "date" column.
type defaultPrinter struct{}

func (defaultPrinter) Columns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameCol(),
		col("Created At", "date", "CreationTimestamp is the time the object was created.", 0),
	}
}

func (defaultPrinter) Cells(obj runtime.Object, _ time.Time) ([]interface{}, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	return []interface{}{m.GetName(), rfc3339(m.GetCreationTimestamp())}, nil
}

// rfc3339 renders a timestamp the way metav1.Time marshals to JSON.
func rfc3339(t metav1.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
