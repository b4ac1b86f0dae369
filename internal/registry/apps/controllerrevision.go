package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

// ControllerRevisionStrategy implements registry.Strategy for apps/v1
// ControllerRevisions, the snapshots StatefulSets and DaemonSets roll back
// to. A revision's data never changes once written.
type ControllerRevisionStrategy struct{ registry.BaseStrategy }

// Validate checks a new ControllerRevision.
func (ControllerRevisionStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cr := obj.(*appsv1.ControllerRevision)
	return append(validateMeta(&cr.ObjectMeta), validateRevision(cr)...)
}

// ValidateUpdate checks an update: data is immutable.
func (ControllerRevisionStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cr, o := obj.(*appsv1.ControllerRevision), old.(*appsv1.ControllerRevision)
	errs := validateMetaUpdate(&cr.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validateRevision(cr)...)
	return append(errs, apivalidation.ValidateImmutableField(cr.Data, o.Data, field.NewPath("data"))...)
}

func validateRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, apivalidation.ValidateNonnegativeField(cr.Revision, field.NewPath("revision"))...)
}

func controllerRevisionResource() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Resource: "controllerrevisions",
		Kind: "ControllerRevision", Singular: "controllerrevision",
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ControllerRevision{} },
		NewList:    func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		Strategy:   ControllerRevisionStrategy{},
	}
}
