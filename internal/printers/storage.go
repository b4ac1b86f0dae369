package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations that predate the storageClassName fields or mark a default.
const (
	betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"
	defaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

func init() {
	register("", "persistentvolumes", typed[*corev1.PersistentVolume]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Capacity", "Storage capacity of the volume."),
			str("Access Modes", "Access modes of the volume."),
			str("Reclaim Policy", "What happens to the volume when released."),
			str("Status", "Phase of the volume."),
			str("Claim", "The claim bound to the volume."),
			str("StorageClass", "Storage class of the volume."),
			str("VolumeAttributesClass", "Volume attributes class of the volume."),
			str("Reason", "Reason for the volume's phase, if any."),
			ageCol(),
			wide("VolumeMode", "Whether the volume is a filesystem or block device."),
		},
		cells: pvCells,
	})
	register("", "persistentvolumeclaims", typed[*corev1.PersistentVolumeClaim]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Status", "Phase of the claim."),
			str("Volume", "The volume bound to the claim."),
			str("Capacity", "Storage capacity of the bound volume."),
			str("Access Modes", "Access modes of the bound volume."),
			str("StorageClass", "Storage class requested by the claim."),
			str("VolumeAttributesClass", "Volume attributes class of the claim."),
			ageCol(),
			wide("VolumeMode", "Whether the volume is a filesystem or block device."),
		},
		cells: pvcCells,
	})
	register("storage.k8s.io", "storageclasses", typed[*storagev1.StorageClass]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Provisioner", "Provisioner that creates volumes of this class."),
			str("ReclaimPolicy", "Reclaim policy of provisioned volumes."),
			str("VolumeBindingMode", "When volumes are bound and provisioned."),
			str("AllowVolumeExpansion", "Whether volumes of this class can grow."),
			ageCol(),
		},
		cells: storageClassCells,
	})
}

func pvCells(o *corev1.PersistentVolume, now time.Time) ([]interface{}, error) {
	claim := ""
	if r := o.Spec.ClaimRef; r != nil {
		claim = r.Namespace + "/" + r.Name
	}
	phase := string(o.Status.Phase)
	if o.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity := o.Spec.Capacity[corev1.ResourceStorage]
	class := o.Spec.StorageClassName
	if a, ok := o.Annotations[betaStorageClassAnnotation]; ok {
		class = a
	}
	return []interface{}{
		o.Name, capacity.String(), accessModes(o.Spec.AccessModes), string(o.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, derefOr(o.Spec.VolumeAttributesClassName, unset), o.Status.Reason,
		age(o.ObjectMeta, now), volumeMode(o.Spec.VolumeMode),
	}, nil
}

func pvcCells(o *corev1.PersistentVolumeClaim, now time.Time) ([]interface{}, error) {
	phase := string(o.Status.Phase)
	if o.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if o.Spec.VolumeName != "" {
		q := o.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), accessModes(o.Status.AccessModes)
	}
	class := derefOr(o.Spec.StorageClassName, "")
	if a, ok := o.Annotations[betaStorageClassAnnotation]; ok {
		class = a
	}
	vac := unset
	if v := o.Spec.VolumeAttributesClassName; v != nil && *v != "" {
		vac = *v
	}
	return []interface{}{
		o.Name, phase, o.Spec.VolumeName, capacity, modes, class, vac,
		age(o.ObjectMeta, now), volumeMode(o.Spec.VolumeMode),
	}, nil
}

func storageClassCells(o *storagev1.StorageClass, now time.Time) ([]interface{}, error) {
	name := o.Name
	if o.Annotations[defaultClassAnnotation] == "true" || o.Annotations[betaDefaultClassAnnotation] == "true" {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if o.ReclaimPolicy != nil {
		reclaim = string(*o.ReclaimPolicy)
	}
	binding := string(storagev1.VolumeBindingImmediate)
	if o.VolumeBindingMode != nil {
		binding = string(*o.VolumeBindingMode)
	}
	expand := o.AllowVolumeExpansion != nil && *o.AllowVolumeExpansion
	return []interface{}{name, o.Provisioner, reclaim, binding, expand, age(o.ObjectMeta, now)}, nil
}

// accessModes abbreviates access modes in a fixed order, without repeats.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	order := []struct {
		mode corev1.PersistentVolumeAccessMode
		abbr string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	}
	var out []string
	for _, o := range order {
		for _, m := range modes {
			if m == o.mode {
				out = append(out, o.abbr)
				break
			}
		}
	}
	return strings.Join(out, ",")
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return unset
	}
	return string(*m)
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
