// Package scheduling holds the strategy and registry entry of
// scheduling.k8s.io/v1 PriorityClasses. It applies defaults and validates;
// it must not do I/O, so the one-global-default rule and the creation of
// the built-in system classes belong to admission and server bootstrap.
package scheduling

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

const (
	// HighestUserDefinablePriority is the largest value a non-system
	// PriorityClass may have.
	HighestUserDefinablePriority = int32(1000000000)
	// SystemCriticalPriority is the base of the system classes' values.
	SystemCriticalPriority = 2 * HighestUserDefinablePriority
	systemPrefix           = "system-"
)

// SystemPriorityClasses are the built-in classes; only these may use the
// "system-" prefix, with exactly these values.
var SystemPriorityClasses = map[string]int32{
	"system-node-critical":    SystemCriticalPriority + 1000,
	"system-cluster-critical": SystemCriticalPriority,
}

var supportedPreemption = []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}

// PriorityClassStrategy implements registry.Strategy for PriorityClasses.
type PriorityClassStrategy struct{ registry.BaseStrategy }

// Default sets preemptionPolicy PreemptLowerPriority.
func (PriorityClassStrategy) Default(obj runtime.Object) {
	pc := obj.(*schedulingv1.PriorityClass)
	if pc.PreemptionPolicy == nil {
		p := corev1.PreemptLowerPriority
		pc.PreemptionPolicy = &p
	}
}

// Validate checks a new PriorityClass.
func (PriorityClassStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pc := obj.(*schedulingv1.PriorityClass)
	errs := apivalidation.ValidateObjectMeta(&pc.ObjectMeta, false, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if strings.HasPrefix(pc.Name, systemPrefix) {
		if err := checkSystemClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > HighestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority)))
	}
	if p := pc.PreemptionPolicy; p != nil && *p != corev1.PreemptLowerPriority && *p != corev1.PreemptNever {
		errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *p, supportedPreemption))
	}
	return errs
}

func checkSystemClass(pc *schedulingv1.PriorityClass) error {
	v, ok := SystemPriorityClasses[pc.Name]
	switch {
	case !ok:
		return fmt.Errorf("%v is not a known system priority class", pc.Name)
	case pc.Value != v:
		return fmt.Errorf("value of %v PriorityClass must be %v", pc.Name, v)
	case pc.GlobalDefault:
		return fmt.Errorf("globalDefault of %v must be false", pc.Name)
	}
	return nil
}

// ValidateUpdate checks an update: value and preemptionPolicy are fixed
// because running pods already carry them.
func (s PriorityClassStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pc, o := obj.(*schedulingv1.PriorityClass), old.(*schedulingv1.PriorityClass)
	errs := apivalidation.ValidateObjectMetaUpdate(&pc.ObjectMeta, &o.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, s.Validate(ctx, obj)...)
	if pc.Value != o.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	return append(errs, apivalidation.ValidateImmutableField(pc.PreemptionPolicy, o.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
}

// Resources returns the scheduling.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses",
		Kind: "PriorityClass", Singular: "priorityclass",
		ShortNames: []string{"pc"},
		New:        func() runtime.Object { return &schedulingv1.PriorityClass{} },
		NewList:    func() runtime.Object { return &schedulingv1.PriorityClassList{} },
		Strategy:   PriorityClassStrategy{},
	}}
}
