package printers

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// now is the fixed reference time every test formats ages against.
var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time {
	t := ago(d)
	return &t
}

func ptr[T any](v T) *T { return &v }

func objMeta(name string, created time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(created)}
}

// cellCase is one row expectation for a printer test table.
type cellCase struct {
	name string
	obj  runtime.Object
	want []interface{}
}

func runCells(t *testing.T, gr schema.GroupResource, cases []cellCase) {
	t.Helper()
	p := For(gr)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Cells(tc.obj, now)
			if err != nil {
				t.Fatalf("Cells: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("cells mismatch\n got: %#v\nwant: %#v", got, tc.want)
			}
			if len(got) != len(p.Columns()) {
				t.Errorf("%d cells for %d columns", len(got), len(p.Columns()))
			}
		})
	}
}

// columnNames lists the header names at the given priority.
func columnNames(p Printer, priority int32) []string {
	var out []string
	for _, c := range p.Columns() {
		if c.Priority == priority {
			out = append(out, c.Name)
		}
	}
	return out
}
