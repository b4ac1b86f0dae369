package apps

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedAccessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod,
}

// defaultClaimTemplate applies the PersistentVolumeClaim defaults that a
// real cluster shows inside spec.volumeClaimTemplates.
func defaultClaimTemplate(pvc *corev1.PersistentVolumeClaim) {
	if pvc.APIVersion == "" {
		pvc.APIVersion = "v1"
	}
	if pvc.Kind == "" {
		pvc.Kind = "PersistentVolumeClaim"
	}
	if pvc.Spec.VolumeMode == nil {
		fs := corev1.PersistentVolumeFilesystem
		pvc.Spec.VolumeMode = &fs
	}
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

// validateClaimTemplate checks the parts of a claim template that make a
// StatefulSet unable to create its claims; full PVC validation is the core
// package's job when the claim itself is created.
func validateClaimTemplate(pvc *corev1.PersistentVolumeClaim, fld *field.Path) field.ErrorList {
	meta := fld.Child("metadata")
	var errs field.ErrorList
	if pvc.Name == "" {
		errs = append(errs, field.Required(meta.Child("name"), "name or generateName is required"))
	} else {
		for _, msg := range apivalidation.NameIsDNSSubdomain(pvc.Name, false) {
			errs = append(errs, field.Invalid(meta.Child("name"), pvc.Name, msg))
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(pvc.Labels, meta.Child("labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(pvc.Annotations, meta.Child("annotations"))...)
	spec := fld.Child("spec")
	if len(pvc.Spec.AccessModes) == 0 {
		errs = append(errs, field.Required(spec.Child("accessModes"), "at least 1 access mode is required"))
	}
	for _, m := range pvc.Spec.AccessModes {
		if !containsMode(m) {
			errs = append(errs, field.NotSupported(spec.Child("accessModes"), m, supportedAccessModes))
		}
	}
	if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok && pvc.Spec.DataSource == nil && pvc.Spec.DataSourceRef == nil {
		errs = append(errs, field.Required(spec.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	}
	return errs
}

func containsMode(m corev1.PersistentVolumeAccessMode) bool {
	for _, s := range supportedAccessModes {
		if s == m {
			return true
		}
	}
	return false
}
