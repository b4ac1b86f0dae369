package apps

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry/core"
)

var (
	metaPath   = field.NewPath("metadata")
	specPath   = field.NewPath("spec")
	statusPath = field.NewPath("status")
)

// validateMeta checks metadata of a namespaced apps object; all apps
// resources use DNS subdomain names.
func validateMeta(m *metav1.ObjectMeta) field.ErrorList {
	return apivalidation.ValidateObjectMeta(m, true, apivalidation.NameIsDNSSubdomain, metaPath)
}

func validateMetaUpdate(m, old *metav1.ObjectMeta) field.ErrorList {
	return apivalidation.ValidateObjectMetaUpdate(m, old, metaPath)
}

// validateSelector checks a required, non-empty workload selector; kind
// is used in the message as upstream does ("empty selector is invalid for
// deployment").
func validateSelector(sel *metav1.LabelSelector, kind string, fld *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fld)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fld, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// validateTemplateForController checks a pod template owned by a
// long-running controller: labels must match the selector, the pod must
// restart Always and may not have an active deadline.
func validateTemplateForController(t *corev1.PodTemplateSpec, sel *metav1.LabelSelector, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if sel != nil {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return append(errs, field.Invalid(fld.Child("selector"), sel, "invalid label selector"))
		}
		if !s.Empty() && !s.Matches(labels.Set(t.Labels)) {
			errs = append(errs, field.Invalid(fld.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, core.ValidatePodTemplateSpec(t, fld)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(fld.Child("spec", "activeDeadlineSeconds"), *t.Spec.ActiveDeadlineSeconds, "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

// count is a named counter checked by nonNegative.
type count struct {
	name string
	v    int64
}

// nonNegative reports each named field below zero, in order.
func nonNegative(fld *field.Path, vals ...count) field.ErrorList {
	var errs field.ErrorList
	for _, c := range vals {
		errs = append(errs, apivalidation.ValidateNonnegativeField(c.v, fld.Child(c.name))...)
	}
	return errs
}

func nonNegativePtr(v *int32, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(*v), fld)
}

// validateIntOrPercent checks a non-negative integer or a percentage.
func validateIntOrPercent(v *intstr.IntOrString, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.String {
		if len(validation.IsValidPercent(v.StrVal)) != 0 {
			return field.ErrorList{field.Invalid(fld, v.StrVal, "must be an integer or percentage (e.g '5%')")}
		}
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), fld)
}

// percentOrInt returns the number a value holds and whether it is a percent.
func percentOrInt(v *intstr.IntOrString) (int, bool) {
	if v == nil {
		return 0, false
	}
	if v.Type == intstr.String {
		n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
		if err != nil {
			return 0, true
		}
		return n, true
	}
	return v.IntValue(), false
}

func notMoreThan100Percent(v *intstr.IntOrString, fld *field.Path) field.ErrorList {
	n, pct := percentOrInt(v)
	if pct && n > 100 {
		return field.ErrorList{field.Invalid(fld, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// validateSurgeUnavailable checks a rolling update's maxSurge and
// maxUnavailable, which may not both be zero or the rollout cannot move.
func validateSurgeUnavailable(surge, unavailable *intstr.IntOrString, fld *field.Path) field.ErrorList {
	errs := validateIntOrPercent(unavailable, fld.Child("maxUnavailable"))
	errs = append(errs, notMoreThan100Percent(unavailable, fld.Child("maxUnavailable"))...)
	errs = append(errs, validateIntOrPercent(surge, fld.Child("maxSurge"))...)
	s, _ := percentOrInt(surge)
	u, _ := percentOrInt(unavailable)
	if s == 0 && u == 0 {
		errs = append(errs, field.Invalid(fld.Child("maxUnavailable"), valueOf(unavailable), "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

func valueOf(v *intstr.IntOrString) any {
	if v == nil {
		return nil
	}
	if v.Type == intstr.String {
		return v.StrVal
	}
	return v.IntVal
}

// selectorString renders a selector for Scale.status.selector.
func selectorString(sel *metav1.LabelSelector) string {
	if sel == nil {
		return ""
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return ""
	}
	return s.String()
}

// replicasLE reports a status count that exceeds another, as upstream
// does for ready/available replicas.
func replicasLE(a, b int32, fld *field.Path, other string) field.ErrorList {
	if a > b {
		return field.ErrorList{field.Invalid(fld, a, fmt.Sprintf("cannot be greater than %s", other))}
	}
	return nil
}

func int32Ptr(v int32) *int32 { return &v }

func intstrPtr(v intstr.IntOrString) *intstr.IntOrString { return &v }
