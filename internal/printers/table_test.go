package printers

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

var podsGR = schema.GroupResource{Resource: "pods"}

func TestToTableIncludeModes(t *testing.T) {
	pod := podWith(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web"} })
	tests := []struct {
		include IncludeObject
		check   func(t *testing.T, obj runtime.Object)
	}{
		{IncludeNone, func(t *testing.T, obj runtime.Object) {
			if obj != nil {
				t.Errorf("None: row object = %T, want nil", obj)
			}
		}},
		{"", checkPartial(pod)},
		{IncludeMetadata, checkPartial(pod)},
		{IncludeObjects, func(t *testing.T, obj runtime.Object) {
			got, ok := obj.(*corev1.Pod)
			if !ok {
				t.Fatalf("Object: row object = %T", obj)
			}
			if got.Name != "web" || got.Kind != "Pod" || got.APIVersion != "v1" {
				t.Errorf("Object: got %s %s/%s", got.Name, got.APIVersion, got.Kind)
			}
			if pod.Kind != "" {
				t.Error("input pod was mutated")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.include), func(t *testing.T) {
			table, err := ToTable(podsGR, []runtime.Object{pod}, tc.include, false, now)
			if err != nil {
				t.Fatal(err)
			}
			if table.Kind != "Table" || table.APIVersion != "meta.k8s.io/v1" {
				t.Errorf("TypeMeta = %+v", table.TypeMeta)
			}
			if len(table.ColumnDefinitions) != 9 || len(table.Rows) != 1 {
				t.Fatalf("%d columns, %d rows", len(table.ColumnDefinitions), len(table.Rows))
			}
			tc.check(t, table.Rows[0].Object.Object)
		})
	}
}

func checkPartial(pod *corev1.Pod) func(*testing.T, runtime.Object) {
	return func(t *testing.T, obj runtime.Object) {
		pom, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			t.Fatalf("Metadata: row object = %T", obj)
		}
		if pom.APIVersion != "meta.k8s.io/v1" || pom.Kind != "PartialObjectMetadata" {
			t.Errorf("Metadata: TypeMeta = %+v", pom.TypeMeta)
		}
		if pom.Name != pod.Name || pom.Namespace != pod.Namespace || pom.Labels["app"] != "web" {
			t.Errorf("Metadata: ObjectMeta = %+v", pom.ObjectMeta)
		}
	}
}

func TestToTableShapes(t *testing.T) {
	list := &corev1.PodList{Items: []corev1.Pod{*podWith(nil), *podWith(func(p *corev1.Pod) { p.Name = "db" })}}
	tests := []struct {
		name      string
		objs      []runtime.Object
		noHeaders bool
		wantCols  int
		wantNames []string
	}{
		{"list expands", []runtime.Object{list}, false, 9, []string{"web", "db"}},
		{"no headers", []runtime.Object{podWith(nil)}, true, 0, []string{"web"}},
		{"empty", nil, false, 9, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table, err := ToTable(podsGR, tc.objs, IncludeNone, tc.noHeaders, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(table.ColumnDefinitions) != tc.wantCols {
				t.Errorf("%d columns, want %d", len(table.ColumnDefinitions), tc.wantCols)
			}
			if table.Rows == nil {
				t.Error("Rows is nil; an empty table must encode rows as []")
			}
			var names []string
			for _, r := range table.Rows {
				names = append(names, r.Cells[0].(string))
			}
			if !equal(names, tc.wantNames) {
				t.Errorf("names %v, want %v", names, tc.wantNames)
			}
		})
	}
	if _, err := ToTable(podsGR, nil, "Everything", false, now); err == nil {
		t.Error("unknown includeObject accepted")
	}
	if _, err := ToTable(podsGR, []runtime.Object{&corev1.Service{}}, IncludeNone, false, now); err == nil {
		t.Error("service accepted by the pod printer")
	}
}

func TestDefaultPrinter(t *testing.T) {
	p := For(schema.GroupResource{Group: "example.com", Resource: "widgets"})
	cols := p.Columns()
	if len(cols) != 2 || cols[0].Name != "Name" || cols[0].Format != "name" || cols[1].Name != "Created At" || cols[1].Type != "date" {
		t.Fatalf("columns = %+v", cols)
	}
	u := &unstructured.Unstructured{}
	u.SetName("w1")
	u.SetCreationTimestamp(metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	cells, err := p.Cells(u, now)
	if err != nil {
		t.Fatal(err)
	}
	if cells[0] != "w1" || cells[1] != "2026-01-02T03:04:05Z" {
		t.Errorf("cells = %v", cells)
	}
}

// TestEveryPrinterShape feeds each registered printer an empty object and
// checks cells line up with columns, that NAME is flagged and that every
// column is described.
func TestEveryPrinterShape(t *testing.T) {
	for gr, p := range registry {
		cols := p.Columns()
		cells, err := p.Cells(&unstructured.Unstructured{Object: map[string]interface{}{}}, now)
		if err != nil {
			t.Errorf("%s: %v", gr, err)
			continue
		}
		if len(cells) != len(cols) {
			t.Errorf("%s: %d cells for %d columns", gr, len(cells), len(cols))
		}
		for _, c := range cols {
			if c.Description == "" || c.Type == "" {
				t.Errorf("%s: column %q lacks type or description", gr, c.Name)
			}
			if c.Name == "Name" && c.Format != "name" {
				t.Errorf("%s: Name column not formatted as name", gr)
			}
		}
	}
}

func TestUnstructuredInput(t *testing.T) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(podWith(nil))
	if err != nil {
		t.Fatal(err)
	}
	table, err := ToTable(podsGR, []runtime.Object{&unstructured.Unstructured{Object: raw}}, IncludeMetadata, false, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Rows[0].Cells[2]; got != "Running" {
		t.Errorf("status = %v", got)
	}
	if pom := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata); pom.Name != "web" {
		t.Errorf("metadata name = %q", pom.Name)
	}
}

func TestTableRoundTrip(t *testing.T) {
	table, err := ToTable(podsGR, []runtime.Object{podWith(nil)}, IncludeMetadata, false, now)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, &metav1.Table{})
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	if gvk.Kind != "Table" || gvk.Group != "meta.k8s.io" {
		t.Errorf("gvk = %v", gvk)
	}
	got := obj.(*metav1.Table)
	if len(got.ColumnDefinitions) != 9 || got.ColumnDefinitions[0].Format != "name" {
		t.Errorf("columns = %+v", got.ColumnDefinitions)
	}
	want := []interface{}{"web", "1/1", "Running", "0", "10m", "10.1.0.5", "node-a", "<none>", "<none>"}
	for i, c := range got.Rows[0].Cells {
		if c != want[i] {
			t.Errorf("cell %d = %v, want %v", i, c, want[i])
		}
	}
	var pom metav1.PartialObjectMetadata
	if err := json.Unmarshal(got.Rows[0].Object.Raw, &pom); err != nil {
		t.Fatal(err)
	}
	if pom.Kind != "PartialObjectMetadata" || pom.Namespace != "default" {
		t.Errorf("row object = %+v", pom)
	}
}
