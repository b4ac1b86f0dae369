// Package policy holds the strategy and registry entry of policy/v1
// PodDisruptionBudgets. It validates budgets; it must not do I/O or decide
// evictions: pods/eviction is served by the API server itself and the
// budget status is computed by the disruption controller.
package policy

import (
	"context"
	"strconv"
	"strings"

	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var (
	metaPath        = field.NewPath("metadata")
	specPath        = field.NewPath("spec")
	statusPath      = field.NewPath("status")
	supportedPolicy = []policyv1.UnhealthyPodEvictionPolicyType{policyv1.IfHealthyBudget, policyv1.AlwaysAllow}
)

// PodDisruptionBudgetStrategy implements registry.Strategy for PDBs.
type PodDisruptionBudgetStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = PodDisruptionBudgetStrategy{}

// Validate checks a new PodDisruptionBudget.
func (PodDisruptionBudgetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	errs := apivalidation.ValidateObjectMeta(&pdb.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	return append(errs, validateSpec(&pdb.Spec, specPath)...)
}

// ValidateUpdate checks an update; in policy/v1 the whole spec may change.
func (PodDisruptionBudgetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pdb, o := obj.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	errs := apivalidation.ValidateObjectMetaUpdate(&pdb.ObjectMeta, &o.ObjectMeta, metaPath)
	return append(errs, validateSpec(&pdb.Spec, specPath)...)
}

// ValidateStatusUpdate checks a write to poddisruptionbudgets/status.
func (PodDisruptionBudgetStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pdb, o := obj.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	s := &pdb.Status
	errs := apivalidation.ValidateObjectMetaUpdate(&pdb.ObjectMeta, &o.ObjectMeta, metaPath)
	for _, c := range []struct {
		name string
		v    int32
	}{{"disruptionsAllowed", s.DisruptionsAllowed}, {"currentHealthy", s.CurrentHealthy},
		{"desiredHealthy", s.DesiredHealthy}, {"expectedPods", s.ExpectedPods}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.v), statusPath.Child(c.name))...)
	}
	return append(errs, metav1validation.ValidateConditions(s.Conditions, statusPath.Child("conditions"))...)
}

func validateSpec(s *policyv1.PodDisruptionBudgetSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(fld, s, "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, validateIntOrPercent(s.MinAvailable, fld.Child("minAvailable"))...)
	errs = append(errs, validateIntOrPercent(s.MaxUnavailable, fld.Child("maxUnavailable"))...)
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	if p := s.UnhealthyPodEvictionPolicy; p != nil && *p != supportedPolicy[0] && *p != supportedPolicy[1] {
		errs = append(errs, field.NotSupported(fld.Child("unhealthyPodEvictionPolicy"), *p, supportedPolicy))
	}
	return errs
}

// validateIntOrPercent accepts a non-negative count or a percentage of at
// most 100%.
func validateIntOrPercent(v *intstr.IntOrString, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return apivalidation.ValidateNonnegativeField(int64(v.IntVal), fld)
	}
	if len(validation.IsValidPercent(v.StrVal)) != 0 {
		return field.ErrorList{field.Invalid(fld, v.StrVal, "must be an integer or percentage (e.g '5%')")}
	}
	if n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%")); n > 100 {
		return field.ErrorList{field.Invalid(fld, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// Resources returns the policy/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "policy", Version: "v1", Resource: "poddisruptionbudgets",
		Kind: "PodDisruptionBudget", Singular: "poddisruptionbudget",
		ShortNames: []string{"pdb"},
		Namespaced: true,
		New:        func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
		NewList:    func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		Strategy:   PodDisruptionBudgetStrategy{},
		HasStatus:  true,
	}}
}
