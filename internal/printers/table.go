package printers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// IncludeObject says what each table row carries in its Object field; it
// is the value of the includeObject query parameter.
type IncludeObject string

// The includeObject values kubectl and client-go send.
const (
	IncludeNone     IncludeObject = "None"
	IncludeMetadata IncludeObject = "Metadata"
	IncludeObjects  IncludeObject = "Object"
)

// ToTable converts one object or a list's items into a metav1.Table. List
// objects inside objs are expanded into their items. An empty include
// means Metadata, the API default.
func ToTable(gr schema.GroupResource, objs []runtime.Object, include IncludeObject, noHeaders bool, now time.Time) (*metav1.Table, error) {
	switch include {
	case "":
		include = IncludeMetadata
	case IncludeNone, IncludeMetadata, IncludeObjects:
	default:
		return nil, fmt.Errorf("printers: unsupported includeObject %q", include)
	}
	items, err := flatten(objs)
	if err != nil {
		return nil, err
	}
	p := For(gr)
	table := &metav1.Table{
		TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"},
		Rows:     make([]metav1.TableRow, 0, len(items)),
	}
	if !noHeaders {
		table.ColumnDefinitions = p.Columns()
	}
	for _, obj := range items {
		row, err := buildRow(p, obj, include, now)
		if err != nil {
			return nil, err
		}
		table.Rows = append(table.Rows, row)
	}
	return table, nil
}

// flatten expands list objects so callers may pass either a list or its
// items.
func flatten(objs []runtime.Object) ([]runtime.Object, error) {
	out := make([]runtime.Object, 0, len(objs))
	for _, obj := range objs {
		if obj == nil {
			continue
		}
		if !meta.IsListType(obj) {
			out = append(out, obj)
			continue
		}
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, fmt.Errorf("printers: extracting list items: %w", err)
		}
		out = append(out, items...)
	}
	return out, nil
}

func buildRow(p Printer, obj runtime.Object, include IncludeObject, now time.Time) (metav1.TableRow, error) {
	cells, err := p.Cells(obj, now)
	if err != nil {
		return metav1.TableRow{}, err
	}
	row := metav1.TableRow{Cells: cells}
	if rc, ok := p.(rowConditioner); ok {
		row.Conditions = rc.RowConditions(obj)
	}
	switch include {
	case IncludeMetadata:
		m, err := partialMetadata(obj)
		if err != nil {
			return metav1.TableRow{}, err
		}
		row.Object = runtime.RawExtension{Object: m}
	case IncludeObjects:
		row.Object = runtime.RawExtension{Object: withKind(obj)}
	}
	return row, nil
}

// partialMetadata wraps the object's metadata the way the API server does
// for includeObject=Metadata, so kubectl can read namespace and labels.
func partialMetadata(obj runtime.Object) (*metav1.PartialObjectMetadata, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	pom := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
	}
	if om, ok := m.(*metav1.ObjectMeta); ok {
		pom.ObjectMeta = *om.DeepCopy()
		return pom, nil
	}
	pom.ObjectMeta = copyMeta(m)
	return pom, nil
}

// metaOf returns the metadata accessor; typed objects yield their embedded
// *metav1.ObjectMeta so it can be copied wholesale.
func metaOf(obj runtime.Object) (metav1.Object, error) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		return a.GetObjectMeta(), nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("printers: object %T has no metadata: %w", obj, err)
	}
	return m, nil
}

// copyMeta rebuilds ObjectMeta from an accessor (e.g. unstructured).
func copyMeta(m metav1.Object) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:                       m.GetName(),
		GenerateName:               m.GetGenerateName(),
		Namespace:                  m.GetNamespace(),
		UID:                        m.GetUID(),
		ResourceVersion:            m.GetResourceVersion(),
		Generation:                 m.GetGeneration(),
		CreationTimestamp:          m.GetCreationTimestamp(),
		DeletionTimestamp:          m.GetDeletionTimestamp(),
		DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(),
		Labels:                     m.GetLabels(),
		Annotations:                m.GetAnnotations(),
		OwnerReferences:            m.GetOwnerReferences(),
		Finalizers:                 m.GetFinalizers(),
		ManagedFields:              m.GetManagedFields(),
	}
}

// withKind makes sure an embedded full object serialises with apiVersion
// and kind, which typed Go objects usually lack. The input is never
// mutated: a copy is stamped instead.
func withKind(obj runtime.Object) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return obj
	}
	cp := obj.DeepCopyObject()
	cp.GetObjectKind().SetGroupVersionKind(gvks[0])
	return cp
}
