package core

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var supportedPVCPhases = []corev1.PersistentVolumeClaimPhase{corev1.ClaimPending, corev1.ClaimBound, corev1.ClaimLost}

type pvcStrategy struct{ registry.BaseStrategy }

func persistentVolumeClaimResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "persistentvolumeclaims", Kind: "PersistentVolumeClaim",
		Singular: "persistentvolumeclaim", ShortNames: []string{"pvc"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.PersistentVolumeClaim{} },
		NewList:   func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		Strategy:  pvcStrategy{},
		Fields:    legacyNameField,
		HasStatus: true,
	}
}

// Default sets volume mode Filesystem.
func (pvcStrategy) Default(obj runtime.Object) {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	if pvc.Spec.VolumeMode == nil {
		pvc.Spec.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
	}
}

// PrepareForCreate starts the claim in phase Pending.
func (pvcStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*corev1.PersistentVolumeClaim).Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
}

// Validate implements registry.Strategy.
func (pvcStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	errs := validateMeta(&pvc.ObjectMeta, true, apivalidation.NameIsDNSSubdomain)
	return append(errs, validatePVCSpec(&pvc.Spec)...)
}

func validatePVCSpec(spec *corev1.PersistentVolumeClaimSpec) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, specPath.Child("accessModes"))
	storage, ok := spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		errs = append(errs, field.Required(specPath.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	} else {
		errs = append(errs, validatePositiveQuantity(storage, specPath.Child("resources", "requests").Key(string(corev1.ResourceStorage)))...)
	}
	if m := spec.VolumeMode; m != nil && !contains(supportedVolumeModes, *m) {
		errs = append(errs, field.NotSupported(specPath.Child("volumeMode"), *m, supportedVolumeModes))
	}
	if sc := spec.StorageClassName; sc != nil && *sc != "" {
		errs = append(errs, validateName(*sc, specPath.Child("storageClassName"), validation.IsDNS1123Subdomain)...)
	}
	if spec.Selector != nil {
		errs = append(errs, validateSelector(spec.Selector, specPath.Child("selector"))...)
	}
	return errs
}

// ValidateUpdate allows only storage requests to change, plus binding a
// volume name once.
func (pvcStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	errs := validateMetaUpdate(&pvc.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validatePVCSpec(&pvc.Spec)...)
	masked := pvc.Spec.DeepCopy()
	masked.Resources.Requests = o.Spec.Resources.Requests
	masked.VolumeAttributesClassName = o.Spec.VolumeAttributesClassName
	if o.Spec.VolumeName == "" {
		masked.VolumeName = ""
	}
	if !equality.Semantic.DeepEqual(masked, &o.Spec) {
		errs = append(errs, field.Forbidden(specPath, fmt.Sprintf(
			"spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n%s",
			diff.Diff(&o.Spec, masked))))
	}
	return errs
}

// ValidateStatusUpdate checks the phase.
func (pvcStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	errs := validateMetaUpdate(&pvc.ObjectMeta, &o.ObjectMeta)
	if ph := pvc.Status.Phase; ph != "" && !contains(supportedPVCPhases, ph) {
		errs = append(errs, field.NotSupported(field.NewPath("status", "phase"), ph, supportedPVCPhases))
	}
	return errs
}
