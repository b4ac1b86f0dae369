package apps

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// ReplicaSetStrategy implements registry.Strategy for apps/v1 ReplicaSets.
type ReplicaSetStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = ReplicaSetStrategy{}

// Default applies the apps/v1 ReplicaSet defaults.
func (ReplicaSetStrategy) Default(obj runtime.Object) {
	rs := obj.(*appsv1.ReplicaSet)
	core.DefaultPodTemplateSpec(&rs.Spec.Template)
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = int32Ptr(1)
	}
}

// Validate checks a new ReplicaSet.
func (ReplicaSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	rs := obj.(*appsv1.ReplicaSet)
	return append(validateMeta(&rs.ObjectMeta), validateReplicaSetSpec(&rs.Spec, specPath)...)
}

// ValidateUpdate checks an update; the selector is immutable in apps/v1.
func (ReplicaSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rs, o := obj.(*appsv1.ReplicaSet), old.(*appsv1.ReplicaSet)
	errs := validateMetaUpdate(&rs.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateReplicaSetSpec(&rs.Spec, specPath)...)
	return append(errs, apivalidation.ValidateImmutableField(rs.Spec.Selector, o.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateStatusUpdate checks a write to replicasets/status.
func (ReplicaSetStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rs, o := obj.(*appsv1.ReplicaSet), old.(*appsv1.ReplicaSet)
	s := &rs.Status
	errs := validateMetaUpdate(&rs.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, nonNegative(statusPath,
		count{"replicas", int64(s.Replicas)},
		count{"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
		count{"readyReplicas", int64(s.ReadyReplicas)},
		count{"availableReplicas", int64(s.AvailableReplicas)},
		count{"observedGeneration", s.ObservedGeneration})...)
	errs = append(errs, nonNegativePtr(s.TerminatingReplicas, statusPath.Child("terminatingReplicas"))...)
	errs = append(errs, replicasLE(s.FullyLabeledReplicas, s.Replicas, statusPath.Child("fullyLabeledReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.ReadyReplicas, s.Replicas, statusPath.Child("readyReplicas"), "status.replicas")...)
	errs = append(errs, replicasLE(s.AvailableReplicas, s.Replicas, statusPath.Child("availableReplicas"), "status.replicas")...)
	return append(errs, replicasLE(s.AvailableReplicas, s.ReadyReplicas, statusPath.Child("availableReplicas"), "readyReplicas")...)
}

func validateReplicaSetSpec(s *appsv1.ReplicaSetSpec, fld *field.Path) field.ErrorList {
	errs := nonNegativePtr(s.Replicas, fld.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, validateSelector(s.Selector, "deployment", fld.Child("selector"))...)
	return append(errs, validateTemplateForController(&s.Template, s.Selector, fld.Child("template"))...)
}

// replicaSetFields adds status.replicas, which upstream makes selectable.
func replicaSetFields(obj runtime.Object) fields.Set {
	rs := obj.(*appsv1.ReplicaSet)
	return fields.Set{"status.replicas": strconv.Itoa(int(rs.Status.Replicas))}
}

func replicaSetResource() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Resource: "replicasets",
		Kind: "ReplicaSet", Singular: "replicaset",
		ShortNames: []string{"rs"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ReplicaSet{} },
		NewList:    func() runtime.Object { return &appsv1.ReplicaSetList{} },
		Strategy:   ReplicaSetStrategy{},
		Fields:     replicaSetFields,
		HasStatus:  true,
		Scale: &registry.Scale{
			Get: func(obj runtime.Object) (int32, int32, string) {
				rs := obj.(*appsv1.ReplicaSet)
				return deref(rs.Spec.Replicas), rs.Status.Replicas, selectorString(rs.Spec.Selector)
			},
			Set: func(obj runtime.Object, n int32) { obj.(*appsv1.ReplicaSet).Spec.Replicas = &n },
		},
	}
}
