package policy

import (
	"context"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var ctx = context.Background()

func pdb() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*policyv1.PodDisruptionBudget)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*policyv1.PodDisruptionBudget) {}, "", ""},
		{"percent", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = new(intstr.FromString("50%")) }, "", ""},
		{"both set", func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = new(intstr.FromInt32(1)) },
			field.ErrorTypeInvalid, "spec"},
		{"negative", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = new(intstr.FromInt32(-1)) },
			field.ErrorTypeInvalid, "spec.minAvailable"},
		{"over 100%", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = new(intstr.FromString("150%"))
		}, field.ErrorTypeInvalid, "spec.maxUnavailable"},
		{"not a percent", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = new(intstr.FromString("half")) },
			field.ErrorTypeInvalid, "spec.minAvailable"},
		{"bad selector", func(p *policyv1.PodDisruptionBudget) { p.Spec.Selector.MatchLabels = map[string]string{"a b": "c"} },
			field.ErrorTypeInvalid, "spec.selector.matchLabels"},
		{"bad policy", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = new(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}, field.ErrorTypeNotSupported, "spec.unhealthyPodEvictionPolicy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pdb()
			tc.mutate(p)
			errs := PodDisruptionBudgetStrategy{}.Validate(ctx, p)
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

func TestUpdates(t *testing.T) {
	old := pdb()
	upd := old.DeepCopy()
	upd.Spec.MinAvailable = new(intstr.FromInt32(3))
	if errs := (PodDisruptionBudgetStrategy{}).ValidateUpdate(ctx, upd, old); len(errs) != 0 {
		t.Errorf("spec change rejected: %v", errs)
	}
	st := old.DeepCopy()
	st.Status.DisruptionsAllowed = -1
	errs := PodDisruptionBudgetStrategy{}.ValidateStatusUpdate(ctx, st, old)
	if len(errs) != 1 || errs[0].Field != "status.disruptionsAllowed" {
		t.Errorf("got %v", errs)
	}
}

func TestResources(t *testing.T) {
	r := Resources()[0]
	if !r.Namespaced || r.ShortNames[0] != "pdb" || !r.HasStatus || r.Group != "policy" {
		t.Errorf("unexpected %+v", r)
	}
}
