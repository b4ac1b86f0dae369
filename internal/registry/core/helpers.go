package core

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// validatePodIPs checks status.podIP and status.podIPs: valid addresses,
// podIP equal to the first of podIPs, at most one per family.
func validatePodIPs(st *corev1.PodStatus, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if st.PodIP != "" {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Child("podIP"), st.PodIP, false, nil)...)
	}
	for i, ip := range st.PodIPs {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Child("podIPs").Index(i).Child("ip"), ip.IP, false, nil)...)
	}
	if len(st.PodIPs) > 0 && st.PodIP != st.PodIPs[0].IP {
		errs = append(errs, field.Invalid(fld.Child("podIPs").Index(0).Child("ip"), st.PodIPs[0].IP, "must match `podIP`"))
	}
	if len(st.PodIPs) > 2 {
		errs = append(errs, field.TooMany(fld.Child("podIPs"), len(st.PodIPs), 2))
	}
	return errs
}

// validateName runs fn on a non-empty value and turns its messages into
// Invalid errors at p.
func validateName(value string, p *field.Path, fn func(string) []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range fn(value) {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

var metaPath = field.NewPath("metadata")

// validateMeta checks an object's metadata on create with the resource's
// name rule.
func validateMeta(m *metav1.ObjectMeta, namespaced bool, fn apivalidation.ValidateNameFunc) field.ErrorList {
	return apivalidation.ValidateObjectMeta(m, namespaced, fn, metaPath)
}

// validateMetaUpdate checks metadata changes on update.
func validateMetaUpdate(m, old *metav1.ObjectMeta) field.ErrorList {
	return apivalidation.ValidateObjectMetaUpdate(m, old, metaPath)
}

// validateImmutable reports "field is immutable" when a field changed.
func validateImmutable(newV, oldV any, p *field.Path) field.ErrorList {
	return apivalidation.ValidateImmutableField(newV, oldV, p)
}

func itoa32(v int32) string { return strconv.FormatInt(int64(v), 10) }

// validateSelector checks a metav1 label selector with default options.
func validateSelector(s *metav1.LabelSelector, p *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, p)
}

// legacyNameField is the "name" field selector that upstream still serves
// for a few resources (a duplicate of metadata.name kept for old clients).
func legacyNameField(obj runtime.Object) fields.Set {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return fields.Set{"name": m.GetName()}
}
