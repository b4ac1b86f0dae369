package batch

import (
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
	errs = append(errs, validatePodFailurePolicy(s.PodFailurePolicy, fld.Child("podFailurePolicy"))...)
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

func validatePodFailurePolicy(p *batchv1.PodFailurePolicy, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	for i, r := range p.Rules {
		rf := fld.Child("rules").Index(i)
		if !containsAction(r.Action) {
			errs = append(errs, field.NotSupported(rf.Child("action"), r.Action, supportedFailureActions))
		}
		switch {
		case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rf, r, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rf, r, "specifying one of OnExitCodes and OnPodConditions is required"))
		}
	}
	return errs
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
