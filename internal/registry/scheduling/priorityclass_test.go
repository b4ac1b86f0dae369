package scheduling

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var ctx = context.Background()

func pc(name string, value int32) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1"}, Value: value}
}

func TestDefault(t *testing.T) {
	p := pc("high", 1000)
	PriorityClassStrategy{}.Default(p)
	if p.PreemptionPolicy == nil || *p.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy = %v", p.PreemptionPolicy)
	}
	never := corev1.PreemptNever
	p.PreemptionPolicy = &never
	PriorityClassStrategy{}.Default(p)
	if *p.PreemptionPolicy != corev1.PreemptNever {
		t.Error("default overwrote user value")
	}
}

func TestValidate(t *testing.T) {
	bad := corev1.PreemptionPolicy("Sometimes")
	cases := []struct {
		name string
		obj  *schedulingv1.PriorityClass
		typ  field.ErrorType
		path string
	}{
		{"valid", pc("high", 1000), "", ""},
		{"system class", pc("system-node-critical", 2000001000), "", ""},
		{"too high", pc("high", 1000000001), field.ErrorTypeForbidden, "value"},
		{"reserved prefix", pc("system-mine", 5), field.ErrorTypeForbidden, "metadata.name"},
		{"wrong system value", pc("system-cluster-critical", 5), field.ErrorTypeForbidden, "metadata.name"},
		{"namespaced", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns"}}, field.ErrorTypeForbidden, "metadata.namespace"},
		{"bad preemption", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, PreemptionPolicy: &bad},
			field.ErrorTypeNotSupported, "preemptionPolicy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			PriorityClassStrategy{}.Default(tc.obj)
			errs := PriorityClassStrategy{}.Validate(ctx, tc.obj)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
				t.Fatalf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	old := pc("high", 1000)
	PriorityClassStrategy{}.Default(old)
	upd := old.DeepCopy()
	upd.Description = "changed"
	if errs := (PriorityClassStrategy{}).ValidateUpdate(ctx, upd, old); len(errs) != 0 {
		t.Errorf("description change rejected: %v", errs)
	}
	upd.Value = 2000
	never := corev1.PreemptNever
	upd.PreemptionPolicy = &never
	errs := PriorityClassStrategy{}.ValidateUpdate(ctx, upd, old)
	if len(errs) != 2 || errs[0].Field != "value" || errs[1].Field != "preemptionPolicy" {
		t.Errorf("got %v", errs)
	}
}

func TestResources(t *testing.T) {
	r := Resources()[0]
	if r.Namespaced || r.ShortNames[0] != "pc" || r.Resource != "priorityclasses" {
		t.Errorf("unexpected %+v", r)
	}
}
