package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var (
	supportedAccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany,
		corev1.ReadWriteMany, corev1.ReadWriteOncePod}
	supportedReclaim = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete,
		corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain}
	supportedVolumeModes = []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}
	supportedPVPhases    = []corev1.PersistentVolumePhase{corev1.VolumePending, corev1.VolumeAvailable,
		corev1.VolumeBound, corev1.VolumeReleased, corev1.VolumeFailed}
)

type pvStrategy struct{ registry.BaseStrategy }

func persistentVolumeResource() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Resource: "persistentvolumes", Kind: "PersistentVolume", Singular: "persistentvolume",
		ShortNames: []string{"pv"},
		New:        func() runtime.Object { return &corev1.PersistentVolume{} },
		NewList:    func() runtime.Object { return &corev1.PersistentVolumeList{} },
		Strategy:   pvStrategy{},
		Fields:     legacyNameField,
		HasStatus:  true,
	}
}

// Default sets reclaim policy Retain and volume mode Filesystem.
func (pvStrategy) Default(obj runtime.Object) {
	pv := obj.(*corev1.PersistentVolume)
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		hp.Type = ptr(corev1.HostPathUnset)
	}
}

// PrepareForCreate starts the volume in phase Pending.
func (pvStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*corev1.PersistentVolume).Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
}

// Validate implements registry.Strategy.
func (pvStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pv := obj.(*corev1.PersistentVolume)
	errs := validateMeta(&pv.ObjectMeta, false, apivalidation.NameIsDNSSubdomain)
	return append(errs, validatePVSpec(&pv.Spec)...)
}

// ValidateUpdate keeps the volume source and mode fixed.
func (pvStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	errs := validateMetaUpdate(&pv.ObjectMeta, &o.ObjectMeta)
	errs = append(errs, validatePVSpec(&pv.Spec)...)
	errs = append(errs, validateImmutable(pv.Spec.PersistentVolumeSource, o.Spec.PersistentVolumeSource,
		specPath.Child("persistentvolumesource"))...)
	errs = append(errs, validateImmutable(pv.Spec.VolumeMode, o.Spec.VolumeMode, specPath.Child("volumeMode"))...)
	return errs
}

// ValidateStatusUpdate checks the phase.
func (pvStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	errs := validateMetaUpdate(&pv.ObjectMeta, &o.ObjectMeta)
	if ph := pv.Status.Phase; ph != "" && !contains(supportedPVPhases, ph) {
		errs = append(errs, field.NotSupported(field.NewPath("status", "phase"), ph, supportedPVPhases))
	}
	return errs
}

func validatePVSpec(spec *corev1.PersistentVolumeSpec) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, specPath.Child("accessModes"))
	cp := specPath.Child("capacity")
	if len(spec.Capacity) == 0 {
		errs = append(errs, field.Required(cp, ""))
	} else if _, ok := spec.Capacity[corev1.ResourceStorage]; !ok || len(spec.Capacity) > 1 {
		errs = append(errs, field.NotSupported(cp, spec.Capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for name, q := range spec.Capacity {
		errs = append(errs, validatePositiveQuantity(q, cp.Key(string(name)))...)
	}
	if !contains(supportedReclaim, spec.PersistentVolumeReclaimPolicy) {
		errs = append(errs, field.NotSupported(specPath.Child("persistentVolumeReclaimPolicy"),
			spec.PersistentVolumeReclaimPolicy, supportedReclaim))
	}
	if m := spec.VolumeMode; m != nil && !contains(supportedVolumeModes, *m) {
		errs = append(errs, field.NotSupported(specPath.Child("volumeMode"), *m, supportedVolumeModes))
	}
	if countPVSources(&spec.PersistentVolumeSource) == 0 {
		errs = append(errs, field.Required(specPath, "must specify a volume type"))
	} else if countPVSources(&spec.PersistentVolumeSource) > 1 {
		errs = append(errs, field.Forbidden(specPath, "may not specify more than 1 volume type"))
	}
	if hp := spec.HostPath; hp != nil && hp.Path == "" {
		errs = append(errs, field.Required(specPath.Child("hostPath", "path"), ""))
	}
	if spec.StorageClassName != "" {
		errs = append(errs, validateName(spec.StorageClassName, specPath.Child("storageClassName"), validation.IsDNS1123Subdomain)...)
	}
	return errs
}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	for _, m := range modes {
		if !contains(supportedAccessModes, m) {
			errs = append(errs, field.NotSupported(p, m, supportedAccessModes))
		}
	}
	if contains(modes, corev1.ReadWriteOncePod) && len(modes) > 1 {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validatePositiveQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than zero")}
	}
	return nil
}

func countPVSources(s *corev1.PersistentVolumeSource) int {
	n := 0
	for _, set := range []bool{
		s.GCEPersistentDisk != nil, s.AWSElasticBlockStore != nil, s.HostPath != nil,
		s.Glusterfs != nil, s.NFS != nil, s.RBD != nil, s.ISCSI != nil, s.Cinder != nil,
		s.CephFS != nil, s.FC != nil, s.Flocker != nil, s.FlexVolume != nil, s.AzureFile != nil,
		s.VsphereVolume != nil, s.Quobyte != nil, s.AzureDisk != nil, s.PhotonPersistentDisk != nil,
		s.PortworxVolume != nil, s.ScaleIO != nil, s.Local != nil, s.StorageOS != nil, s.CSI != nil,
	} {
		if set {
			n++
		}
	}
	return n
}
