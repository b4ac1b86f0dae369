package batch

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry/core"
)

// maxIndexedCompletions bounds Indexed jobs, whose completed indexes are
// tracked in the status.
const maxIndexedCompletions = 100000

// validateJobSpec checks a job spec. needSelector is false inside a
// CronJob's jobTemplate, whose selector is generated per job.
func validateJobSpec(s *batchv1.JobSpec, fld *field.Path, needSelector bool) field.ErrorList {
	errs := nonNegativePtr(s.Parallelism, fld.Child("parallelism"))
	errs = append(errs, nonNegativePtr(s.Completions, fld.Child("completions"))...)
	errs = append(errs, nonNegativePtr(s.BackoffLimit, fld.Child("backoffLimit"))...)
	errs = append(errs, nonNegativePtr(s.TTLSecondsAfterFinished, fld.Child("ttlSecondsAfterFinished"))...)
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(fld.Child("activeDeadlineSeconds"), *s.ActiveDeadlineSeconds, "must be greater than 0"))
	}
	errs = append(errs, validateCompletionMode(s, fld)...)
	errs = append(errs, validatePodFailurePolicy(s, fld)...)
	errs = append(errs, validateSuccessPolicy(s, fld)...)
	if p := s.PodReplacementPolicy; p != nil {
		switch {
		case *p != batchv1.TerminatingOrFailed && *p != batchv1.Failed:
			errs = append(errs, field.NotSupported(fld.Child("podReplacementPolicy"), *p,
				[]batchv1.PodReplacementPolicy{batchv1.TerminatingOrFailed, batchv1.Failed}))
		case s.PodFailurePolicy != nil && *p != batchv1.Failed:
			errs = append(errs, field.NotSupported(fld.Child("podReplacementPolicy"), *p, []batchv1.PodReplacementPolicy{batchv1.Failed}))
		}
	}
	if m := s.ManagedBy; m != nil {
		errs = append(errs, validation.IsDomainPrefixedPath(fld.Child("managedBy"), *m)...)
		if len(*m) > 63 {
			errs = append(errs, field.TooLong(fld.Child("managedBy"), *m, 63))
		}
	}
	errs = append(errs, validateJobSelector(s, fld, needSelector)...)
	return append(errs, validateJobTemplate(&s.Template, fld.Child("template"))...)
}

func validateCompletionMode(s *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.CompletionMode == nil {
		return nil
	}
	switch *s.CompletionMode {
	case batchv1.NonIndexedCompletion:
		if s.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(fld.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
	case batchv1.IndexedCompletion:
		if s.Completions == nil {
			errs = append(errs, field.Required(fld.Child("completions"), "when completion mode is Indexed"))
		} else if *s.Completions > maxIndexedCompletions {
			errs = append(errs, field.Invalid(fld.Child("completions"), *s.Completions, "must be less than or equal to 100000 when completion mode is Indexed"))
		}
		if s.Parallelism != nil && *s.Parallelism > maxIndexedCompletions {
			errs = append(errs, field.Invalid(fld.Child("parallelism"), *s.Parallelism, "must be less than or equal to 100000 when completion mode is Indexed"))
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("completionMode"), *s.CompletionMode,
			[]batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
	}
	errs = append(errs, nonNegativePtr(s.BackoffLimitPerIndex, fld.Child("backoffLimitPerIndex"))...)
	if s.MaxFailedIndexes != nil && s.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(fld.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	return append(errs, nonNegativePtr(s.MaxFailedIndexes, fld.Child("maxFailedIndexes"))...)
}

var supportedFailureActions = []batchv1.PodFailurePolicyAction{
	batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex,
	batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore,
}

// validatePodFailurePolicy checks spec.podFailurePolicy, which judges
// Failed pods and so needs restartPolicy Never.
func validatePodFailurePolicy(s *batchv1.JobSpec, spec *field.Path) field.ErrorList {
	p, fld := s.PodFailurePolicy, spec.Child("podFailurePolicy")
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	if rp := s.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
		errs = append(errs, field.Invalid(spec.Child("template", "spec", "restartPolicy"), rp,
			"must be Never when podFailurePolicy is set"))
	}
	if len(p.Rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(fld.Child("rules"), len(p.Rules), maxPodFailurePolicyRules))
	}
	for i, r := range p.Rules {
		rf := fld.Child("rules").Index(i)
		if !containsAction(r.Action) {
			errs = append(errs, field.NotSupported(rf.Child("action"), r.Action, supportedFailureActions))
		}
		if r.Action == batchv1.PodFailurePolicyActionFailIndex && s.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Invalid(rf.Child("action"), r.Action, "requires backoffLimitPerIndex"))
		}
		switch {
		case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rf, r, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rf, r, "specifying one of OnExitCodes and OnPodConditions is required"))
		case r.OnExitCodes != nil:
			errs = append(errs, validateOnExitCodes(r.OnExitCodes, rf.Child("onExitCodes"))...)
		default:
			for k, c := range r.OnPodConditions {
				if c.Status != corev1.ConditionTrue && c.Status != corev1.ConditionFalse && c.Status != corev1.ConditionUnknown {
					errs = append(errs, field.NotSupported(rf.Child("onPodConditions").Index(k).Child("status"), c.Status,
						[]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}))
				}
				if c.Type == "" {
					errs = append(errs, field.Required(rf.Child("onPodConditions").Index(k).Child("type"), ""))
				}
			}
		}
	}
	return errs
}

// Upstream's bounds on the policies.
const (
	maxPodFailurePolicyRules = 20
	maxExitCodeValues        = 255
	maxSuccessPolicyRules    = 20
)

func validateOnExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn && r.Operator != batchv1.PodFailurePolicyOnExitCodesOpNotIn {
		errs = append(errs, field.NotSupported(fld.Child("operator"), r.Operator,
			[]batchv1.PodFailurePolicyOnExitCodesOperator{batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn}))
	}
	switch {
	case len(r.Values) == 0:
		errs = append(errs, field.Required(fld.Child("values"), "at least one exit code"))
	case len(r.Values) > maxExitCodeValues:
		errs = append(errs, field.TooMany(fld.Child("values"), len(r.Values), maxExitCodeValues))
	}
	seen := map[int32]bool{}
	for i, v := range r.Values {
		vf := fld.Child("values").Index(i)
		switch {
		case seen[v]:
			errs = append(errs, field.Duplicate(vf, v))
		case v == 0 && r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn:
			errs = append(errs, field.Invalid(vf, v, "must not be 0 for the In operator"))
		}
		seen[v] = true
	}
	return errs
}

// validateSuccessPolicy checks spec.successPolicy, for Indexed Jobs only:
// each rule names indexes below completions, a positive count, or both.
func validateSuccessPolicy(s *batchv1.JobSpec, spec *field.Path) field.ErrorList {
	p, fld := s.SuccessPolicy, spec.Child("successPolicy")
	if p == nil {
		return nil
	}
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil {
		return field.ErrorList{field.Invalid(fld, p, "requires indexed completion mode")}
	}
	var errs field.ErrorList
	switch {
	case len(p.Rules) == 0:
		errs = append(errs, field.Required(fld.Child("rules"), "at least one rule"))
	case len(p.Rules) > maxSuccessPolicyRules:
		errs = append(errs, field.TooMany(fld.Child("rules"), len(p.Rules), maxSuccessPolicyRules))
	}
	completions := int64(*s.Completions)
	for i, r := range p.Rules {
		rf := fld.Child("rules").Index(i)
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			errs = append(errs, field.Required(rf, "at least one of succeededIndexes and succeededCount"))
			continue
		}
		size := completions
		if r.SucceededIndexes != nil {
			n, err := countIndexes(*r.SucceededIndexes, completions)
			if err != "" {
				errs = append(errs, field.Invalid(rf.Child("succeededIndexes"), *r.SucceededIndexes, err))
			}
			size = n
		}
		if c := r.SucceededCount; c != nil {
			switch {
			case *c <= 0:
				errs = append(errs, field.Invalid(rf.Child("succeededCount"), *c, "must be greater than 0"))
			case int64(*c) > size:
				errs = append(errs, field.Invalid(rf.Child("succeededCount"), *c,
					fmt.Sprintf("must be less than or equal to %d (the number of indexes it may count)", size)))
			}
		}
	}
	return errs
}

// countIndexes checks an interval list ("1,3-5") of indexes below
// completions, ascending and without overlaps, and counts its indexes.
func countIndexes(s string, completions int64) (int64, string) {
	if s == "" {
		return 0, "must not be empty"
	}
	var n int64
	prev := int64(-1)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseInt(lo, 10, 64)
		if err != nil || first < 0 {
			return 0, fmt.Sprintf("cannot parse %q as an index or interval", part)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseInt(hi, 10, 64); err != nil || last < first {
				return 0, fmt.Sprintf("cannot parse %q as an index or interval", part)
			}
		}
		switch {
		case last >= completions:
			return 0, fmt.Sprintf("index %d must be less than completions (%d)", last, completions)
		case first <= prev:
			return 0, "indexes must be ascending and must not repeat"
		}
		n += last - first + 1
		prev = last
	}
	return n, ""
}

func containsAction(a batchv1.PodFailurePolicyAction) bool {
	for _, s := range supportedFailureActions {
		if s == a {
			return true
		}
	}
	return false
}

func validateJobSelector(s *batchv1.JobSpec, fld *field.Path, need bool) field.ErrorList {
	if s.Selector == nil {
		if need {
			return field.ErrorList{field.Required(fld.Child("selector"), "")}
		}
		return nil
	}
	errs := metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))
	sel, err := metav1.LabelSelectorAsSelector(s.Selector)
	if err != nil {
		return append(errs, field.Invalid(fld.Child("selector"), s.Selector, "invalid label selector"))
	}
	if !sel.Matches(labels.Set(s.Template.Labels)) {
		errs = append(errs, field.Invalid(fld.Child("template", "metadata", "labels"), s.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateJobTemplate checks the pod template; job pods must not restart
// Always, or they would never complete.
func validateJobTemplate(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	errs := core.ValidatePodTemplateSpec(t, fld)
	p := t.Spec.RestartPolicy
	if p != corev1.RestartPolicyOnFailure && p != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(fld.Child("spec", "restartPolicy"), p,
			[]corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	return errs
}

func nonNegativePtr[T int32 | int64](v *T, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(*v), fld)
}
