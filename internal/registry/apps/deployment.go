package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// DeploymentStrategy implements registry.Strategy for apps/v1 Deployments.
type DeploymentStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = DeploymentStrategy{}

// Default applies the apps/v1 Deployment defaults.
func (DeploymentStrategy) Default(obj runtime.Object) {
	d := obj.(*appsv1.Deployment)
	core.DefaultPodTemplateSpec(&d.Spec.Template)
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = int32Ptr(1)
	}
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = intstrPtr(intstr.FromString("25%"))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = intstrPtr(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = int32Ptr(600)
	}
}

// PrepareForUpdate bumps the generation when annotations change, as
// upstream does, because the controller copies them to the ReplicaSet and
// so they start a rollout like a spec change. (The store bumps it for
// spec changes.)
func (DeploymentStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	if !apiequality.Semantic.DeepEqual(d.Annotations, o.Annotations) {
		d.Generation = o.Generation + 1
	}
}

// Validate checks a new Deployment.
func (DeploymentStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	d := obj.(*appsv1.Deployment)
	return append(validateMeta(&d.ObjectMeta), validateDeploymentSpec(&d.Spec, specPath)...)
}

// ValidateUpdate checks an update; the selector is immutable in apps/v1.
func (DeploymentStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	errs := validateMetaUpdate(&d.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateDeploymentSpec(&d.Spec, specPath)...)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, o.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateStatusUpdate checks a write to deployments/status.
func (DeploymentStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	s := &d.Status
	errs := validateMetaUpdate(&d.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, nonNegative(statusPath,
		count{"observedGeneration", s.ObservedGeneration},
		count{"replicas", int64(s.Replicas)},
		count{"updatedReplicas", int64(s.UpdatedReplicas)},
		count{"readyReplicas", int64(s.ReadyReplicas)},
		count{"availableReplicas", int64(s.AvailableReplicas)},
		count{"unavailableReplicas", int64(s.UnavailableReplicas)})...)
	errs = append(errs, nonNegativePtr(s.CollisionCount, statusPath.Child("collisionCount"))...)
	errs = append(errs, nonNegativePtr(s.TerminatingReplicas, statusPath.Child("terminatingReplicas"))...)
	errs = append(errs, replicasLE(s.ReadyReplicas, s.Replicas, statusPath.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.AvailableReplicas, s.Replicas, statusPath.Child("availableReplicas"), "status.replicas")...)
	return append(errs, replicasLE(s.AvailableReplicas, s.ReadyReplicas, statusPath.Child("availableReplicas"), "readyReplicas")...)
}

func validateDeploymentSpec(s *appsv1.DeploymentSpec, fld *field.Path) field.ErrorList {
	errs := nonNegativePtr(s.Replicas, fld.Child("replicas"))
	errs = append(errs, validateSelector(s.Selector, "deployment", fld.Child("selector"))...)
	errs = append(errs, validateTemplateForController(&s.Template, s.Selector, fld.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&s.Strategy, fld.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, nonNegativePtr(s.RevisionHistoryLimit, fld.Child("revisionHistoryLimit"))...)
	if p := s.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*p), fld.Child("progressDeadlineSeconds"))...)
		if *p <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(fld.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(st *appsv1.DeploymentStrategy, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(fld.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if st.RollingUpdate == nil {
			errs = append(errs, field.Required(fld.Child("rollingUpdate"), "this should be defaulted and never be nil"))
			break
		}
		ru := st.RollingUpdate
		errs = append(errs, validateSurgeUnavailable(ru.MaxSurge, ru.MaxUnavailable, fld.Child("rollingUpdate"))...)
	default:
		errs = append(errs, field.NotSupported(fld.Child("type"), st.Type, []appsv1.DeploymentStrategyType{
			appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
	}
	return errs
}

func deploymentResource() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Resource: "deployments",
		Kind: "Deployment", Singular: "deployment",
		ShortNames: []string{"deploy"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.Deployment{} },
		NewList:    func() runtime.Object { return &appsv1.DeploymentList{} },
		Strategy:   DeploymentStrategy{},
		HasStatus:  true,
		Scale: &registry.Scale{
			Get: func(obj runtime.Object) (int32, int32, string) {
				d := obj.(*appsv1.Deployment)
				return deref(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
			},
			Set: func(obj runtime.Object, n int32) { obj.(*appsv1.Deployment).Spec.Replicas = &n },
		},
	}
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
