package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

type namespaceStrategy struct{ registry.BaseStrategy }

func namespaceResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "namespaces", Kind: "Namespace", Singular: "namespace",
		ShortNames: []string{"ns"},
		New:        func() runtime.Object { return &corev1.Namespace{} },
		NewList:    func() runtime.Object { return &corev1.NamespaceList{} },
		Strategy:   namespaceStrategy{},
		Fields: func(obj runtime.Object) fields.Set {
			ns := obj.(*corev1.Namespace)
			// "name" duplicates metadata.name; upstream keeps it for old
			// clients.
			return fields.Set{"status.phase": string(ns.Status.Phase), "name": ns.Name}
		},
		HasStatus:    true,
		Subresources: []string{"finalize"},
	}
}

// Default keeps the immutable kubernetes.io/metadata.name label equal to
// the name, as upstream does on every write.
func (namespaceStrategy) Default(obj runtime.Object) {
	setNamespaceNameLabel(obj.(*corev1.Namespace))
}

func setNamespaceNameLabel(ns *corev1.Namespace) {
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

// PrepareForCreate adds the kubernetes finalizer and the Active phase.
func (namespaceStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	setNamespaceNameLabel(ns)
	if !contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
}

// PrepareForUpdate keeps spec.finalizers, which only /finalize may change.
func (namespaceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Spec.Finalizers = o.Spec.Finalizers
	setNamespaceNameLabel(ns)
}

// Validate implements registry.Strategy.
func (namespaceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	errs := validateMeta(&ns.ObjectMeta, false, apivalidation.NameIsDNSLabel)
	return append(errs, validateNamespaceFinalizers(ns.Spec.Finalizers)...)
}

// ValidateUpdate implements registry.Strategy.
func (namespaceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	errs := validateMetaUpdate(&ns.ObjectMeta, &o.ObjectMeta)
	return append(errs, validateNamespaceFinalizers(ns.Spec.Finalizers)...)
}

// ValidateStatusUpdate ties the phase to the deletion timestamp.
func (namespaceStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	errs := validateMetaUpdate(&ns.ObjectMeta, &o.ObjectMeta)
	p := field.NewPath("status", "phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			errs = append(errs, field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		errs = append(errs, field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
	}
	return errs
}

func validateNamespaceFinalizers(fins []corev1.FinalizerName) field.ErrorList {
	var errs field.ErrorList
	for i, f := range fins {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}
