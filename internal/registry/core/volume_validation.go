package core

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks pod volumes and returns the set of their names for
// volumeMount lookups.
func validateVolumes(vols []corev1.Volume, fld *field.Path) (sets.Set[string], field.ErrorList) {
	names := sets.New[string]()
	var errs field.ErrorList
	for i := range vols {
		v := &vols[i]
		p := fld.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), v.Name, msg))
			}
		}
		names.Insert(v.Name)
		errs = append(errs, validateVolumeSource(&v.VolumeSource, p)...)
	}
	return names, errs
}

func validateVolumeSource(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
	switch n := countVolumeSources(s); {
	case n == 0:
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	case n > 1:
		return field.ErrorList{field.Forbidden(p, "may not specify more than 1 volume type")}
	}
	var errs field.ErrorList
	switch {
	case s.HostPath != nil:
		if s.HostPath.Path == "" {
			errs = append(errs, field.Required(p.Child("hostPath", "path"), ""))
		}
	case s.Secret != nil:
		errs = append(errs, validateMode(s.Secret.DefaultMode, p.Child("secret", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Secret.Items, p.Child("secret", "items"))...)
	case s.ConfigMap != nil:
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("configMap", "name"), ""))
		}
		errs = append(errs, validateMode(s.ConfigMap.DefaultMode, p.Child("configMap", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, p.Child("configMap", "items"))...)
	case s.PersistentVolumeClaim != nil:
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case s.NFS != nil:
		if s.NFS.Server == "" {
			errs = append(errs, field.Required(p.Child("nfs", "server"), ""))
		}
		if s.NFS.Path == "" {
			errs = append(errs, field.Required(p.Child("nfs", "path"), ""))
		}
	case s.EmptyDir != nil:
		if l := s.EmptyDir.SizeLimit; l != nil {
			errs = append(errs, validateNonnegativeQuantity(*l, p.Child("emptyDir", "sizeLimit"))...)
		}
	case s.Projected != nil:
		errs = append(errs, validateMode(s.Projected.DefaultMode, p.Child("projected", "defaultMode"))...)
	}
	return errs
}

// validateMode accepts the permission bits 0000-0777 only.
func validateMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		p := fld.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(p.Child("key"), ""))
		}
		if it.Path == "" {
			errs = append(errs, field.Required(p.Child("path"), ""))
		}
		errs = append(errs, validateMode(it.Mode, p.Child("mode"))...)
	}
	return errs
}
