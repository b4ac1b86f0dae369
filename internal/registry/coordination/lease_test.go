package coordination

import (
	"context"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func i32(v int32) *int32 { return &v }

func TestLeaseValidate(t *testing.T) {
	custom := coordinationv1.CoordinatedLeaseStrategy("example.com/fastest")
	bad := coordinationv1.CoordinatedLeaseStrategy("Fastest")
	holder := "node-a"
	cases := []struct {
		name string
		meta metav1.ObjectMeta
		spec coordinationv1.LeaseSpec
		typ  field.ErrorType
		path string
	}{
		{"valid", metav1.ObjectMeta{Name: "kube-scheduler", Namespace: "kube-system"},
			coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: i32(15)}, "", ""},
		{"custom strategy", metav1.ObjectMeta{Name: "l", Namespace: "ns"},
			coordinationv1.LeaseSpec{Strategy: &custom, PreferredHolder: &holder}, "", ""},
		{"zero duration", metav1.ObjectMeta{Name: "l", Namespace: "ns"},
			coordinationv1.LeaseSpec{LeaseDurationSeconds: i32(0)}, field.ErrorTypeInvalid, "spec.leaseDurationSeconds"},
		{"negative transitions", metav1.ObjectMeta{Name: "l", Namespace: "ns"},
			coordinationv1.LeaseSpec{LeaseTransitions: i32(-1)}, field.ErrorTypeInvalid, "spec.leaseTransitions"},
		{"unknown strategy", metav1.ObjectMeta{Name: "l", Namespace: "ns"},
			coordinationv1.LeaseSpec{Strategy: &bad}, field.ErrorTypeNotSupported, "spec.strategy"},
		{"preferred holder alone", metav1.ObjectMeta{Name: "l", Namespace: "ns"},
			coordinationv1.LeaseSpec{PreferredHolder: &holder}, field.ErrorTypeForbidden, "spec.preferredHolder"},
		{"no namespace", metav1.ObjectMeta{Name: "l"}, coordinationv1.LeaseSpec{}, field.ErrorTypeRequired, "metadata.namespace"},
		{"bad name", metav1.ObjectMeta{Name: "L!", Namespace: "ns"}, coordinationv1.LeaseSpec{}, field.ErrorTypeInvalid, "metadata.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := LeaseStrategy{}.Validate(context.Background(), &coordinationv1.Lease{ObjectMeta: tc.meta, Spec: tc.spec})
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Type != tc.typ || errs[0].Field != tc.path {
				t.Fatalf("want one %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestLeaseUpdate(t *testing.T) {
	old := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "ns", ResourceVersion: "3"}}
	upd := old.DeepCopy()
	upd.Spec.LeaseDurationSeconds = i32(-5)
	errs := LeaseStrategy{}.ValidateUpdate(context.Background(), upd, old)
	if len(errs) != 1 || errs[0].Field != "spec.leaseDurationSeconds" {
		t.Errorf("got %v", errs)
	}
	upd.Spec.LeaseDurationSeconds = i32(10)
	if errs := (LeaseStrategy{}).ValidateUpdate(context.Background(), upd, old); len(errs) != 0 {
		t.Errorf("valid update rejected: %v", errs)
	}
}

func TestResources(t *testing.T) {
	r := Resources()[0]
	if r.Resource != "leases" || r.Group != "coordination.k8s.io" || !r.Namespaced || len(r.ShortNames) != 0 || r.HasStatus {
		t.Errorf("unexpected resource %+v", r)
	}
	if _, ok := r.New().(*coordinationv1.Lease); !ok {
		t.Error("New does not return a Lease")
	}
}
