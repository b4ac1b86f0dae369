package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// DaemonSetStrategy implements registry.Strategy for apps/v1 DaemonSets.
type DaemonSetStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = DaemonSetStrategy{}

// Default applies the apps/v1 DaemonSet defaults.
func (DaemonSetStrategy) Default(obj runtime.Object) {
	ds := obj.(*appsv1.DaemonSet)
	core.DefaultPodTemplateSpec(&ds.Spec.Template)
	st := &ds.Spec.UpdateStrategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if st.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = intstrPtr(intstr.FromInt32(1))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = intstrPtr(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
}

// Validate checks a new DaemonSet.
func (DaemonSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ds := obj.(*appsv1.DaemonSet)
	return append(validateMeta(&ds.ObjectMeta), validateDaemonSetSpec(&ds.Spec, specPath)...)
}

// ValidateUpdate checks an update; the selector is immutable in apps/v1.
func (DaemonSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ds, o := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	errs := validateMetaUpdate(&ds.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateDaemonSetSpec(&ds.Spec, specPath)...)
	return append(errs, apivalidation.ValidateImmutableField(ds.Spec.Selector, o.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateStatusUpdate checks a write to daemonsets/status.
func (DaemonSetStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ds, o := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	s := &ds.Status
	errs := validateMetaUpdate(&ds.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, nonNegative(statusPath,
		count{"currentNumberScheduled", int64(s.CurrentNumberScheduled)},
		count{"numberMisscheduled", int64(s.NumberMisscheduled)},
		count{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)},
		count{"numberReady", int64(s.NumberReady)},
		count{"observedGeneration", s.ObservedGeneration},
		count{"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)},
		count{"numberAvailable", int64(s.NumberAvailable)},
		count{"numberUnavailable", int64(s.NumberUnavailable)})...)
	return append(errs, nonNegativePtr(s.CollisionCount, statusPath.Child("collisionCount"))...)
}

func validateDaemonSetSpec(s *appsv1.DaemonSetSpec, fld *field.Path) field.ErrorList {
	errs := validateSelector(s.Selector, "daemonset", fld.Child("selector"))
	errs = append(errs, validateTemplateForController(&s.Template, s.Selector, fld.Child("template"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(s.RevisionHistoryLimit, fld.Child("revisionHistoryLimit"))...)
	st, sfld := &s.UpdateStrategy, fld.Child("updateStrategy")
	switch st.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if st.RollingUpdate == nil {
			errs = append(errs, field.Required(sfld.Child("rollingUpdate"), ""))
			break
		}
		errs = append(errs, validateSurgeUnavailable(st.RollingUpdate.MaxSurge, st.RollingUpdate.MaxUnavailable, sfld.Child("rollingUpdate"))...)
		errs = append(errs, notMoreThan100Percent(st.RollingUpdate.MaxSurge, sfld.Child("rollingUpdate", "maxSurge"))...)
	default:
		errs = append(errs, field.NotSupported(sfld.Child("type"), st.Type, []appsv1.DaemonSetUpdateStrategyType{
			appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType}))
	}
	return errs
}

func daemonSetResource() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Resource: "daemonsets",
		Kind: "DaemonSet", Singular: "daemonset",
		ShortNames: []string{"ds"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.DaemonSet{} },
		NewList:    func() runtime.Object { return &appsv1.DaemonSetList{} },
		Strategy:   DaemonSetStrategy{},
		HasStatus:  true,
	}
}
