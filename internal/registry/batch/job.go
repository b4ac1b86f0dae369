package batch

import (
	"context"
	"fmt"
	"math"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// Labels the server adds to a Job's pod template when it generates the
// selector. The unprefixed ones are kept for older clients.
const (
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"
)

var (
	metaPath   = field.NewPath("metadata")
	specPath   = field.NewPath("spec")
	statusPath = field.NewPath("status")
)

// JobStrategy implements registry.Strategy for batch/v1 Jobs.
type JobStrategy struct{ registry.BaseStrategy }

var _ registry.StatusValidator = JobStrategy{}

// Default applies the batch/v1 Job defaults.
func (JobStrategy) Default(obj runtime.Object) {
	j := obj.(*batchv1.Job)
	s := &j.Spec
	core.DefaultPodTemplateSpec(&s.Template)
	// A job with neither count set runs one pod once; parallelism alone
	// leaves completions unset (a work queue).
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = int32Ptr(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = int32Ptr(1)
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = int32Ptr(math.MaxInt32)
		} else {
			s.BackoffLimit = int32Ptr(6)
		}
	}
	if len(j.Labels) == 0 && s.Template.Labels != nil {
		j.Labels = copyLabels(s.Template.Labels)
	}
	if s.CompletionMode == nil {
		m := batchv1.NonIndexedCompletion
		s.CompletionMode = &m
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.ManualSelector == nil {
		s.ManualSelector = boolPtr(false)
	}
	defaultPodFailurePolicy(s.PodFailurePolicy)
	if s.PodReplacementPolicy == nil {
		p := batchv1.TerminatingOrFailed
		if s.PodFailurePolicy != nil {
			p = batchv1.Failed
		}
		s.PodReplacementPolicy = &p
	}
}

func defaultPodFailurePolicy(p *batchv1.PodFailurePolicy) {
	if p == nil {
		return
	}
	for i := range p.Rules {
		for j := range p.Rules[i].OnPodConditions {
			if p.Rules[i].OnPodConditions[j].Status == "" {
				p.Rules[i].OnPodConditions[j].Status = corev1.ConditionTrue
			}
		}
	}
}

// PrepareForCreate generates the selector and pod labels from the Job's
// uid, unless the user chose the selector (manualSelector: true).
func (JobStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	j := obj.(*batchv1.Job)
	j.Status = batchv1.JobStatus{}
	generateSelector(j)
	// Upstream defaulting copies template labels to an unlabelled Job; do
	// it again now that the template carries the generated labels.
	if len(j.Labels) == 0 && j.Spec.Template.Labels != nil {
		j.Labels = copyLabels(j.Spec.Template.Labels)
	}
}

// generateSelector fills in the uid-based selector and pod labels. It
// never overwrites a value the user set: a conflicting one is reported by
// validateGeneratedSelector instead.
func generateSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	uid := string(j.UID)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for k, v := range generatedLabels(j) {
		if _, ok := j.Spec.Template.Labels[k]; !ok {
			j.Spec.Template.Labels[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = uid
	}
}

func generatedLabels(j *batchv1.Job) map[string]string {
	uid := string(j.UID)
	return map[string]string{
		batchv1.ControllerUidLabel: uid, legacyControllerUIDLabel: uid,
		batchv1.JobNameLabel: j.Name, legacyJobNameLabel: j.Name,
	}
}

// validateGeneratedSelector checks that a generated selector is exactly
// the uid selector and that the pods carry the generated labels, so the
// job cannot select another controller's pods.
func validateGeneratedSelector(j *batchv1.Job) field.ErrorList {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(metaPath.Child("uid"), ""))
	}
	labelsPath := specPath.Child("template", "metadata", "labels")
	for _, k := range []string{legacyControllerUIDLabel, legacyJobNameLabel, batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		want := generatedLabels(j)[k]
		got, ok := j.Spec.Template.Labels[k]
		switch {
		case !ok:
			errs = append(errs, field.Required(labelsPath.Key(k), fmt.Sprintf("must be '%s'", want)))
		case got != want:
			errs = append(errs, field.Invalid(labelsPath.Key(k), got, fmt.Sprintf("must be '%s'", want)))
		}
	}
	expected := &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(j.UID)}}
	if !apiequality.Semantic.DeepEqual(j.Spec.Selector, expected) {
		errs = append(errs, field.Invalid(specPath.Child("selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// Validate checks a new Job.
func (JobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	j := obj.(*batchv1.Job)
	errs := apivalidation.ValidateObjectMeta(&j.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	errs = append(errs, validateGeneratedSelector(j)...)
	return append(errs, validateJobSpec(&j.Spec, specPath, true)...)
}

// ValidateUpdate checks an update: most of a Job's spec is fixed once its
// pods may exist.
func (JobStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	j, o := obj.(*batchv1.Job), old.(*batchv1.Job)
	errs := apivalidation.ValidateObjectMetaUpdate(&j.ObjectMeta, &o.ObjectMeta, metaPath)
	errs = append(errs, validateJobSpec(&j.Spec, specPath, true)...)
	s, os := &j.Spec, &o.Spec
	errs = append(errs, apivalidation.ValidateImmutableField(s.Selector, os.Selector, specPath.Child("selector"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.ManualSelector, os.ManualSelector, specPath.Child("manualSelector"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.CompletionMode, os.CompletionMode, specPath.Child("completionMode"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.PodFailurePolicy, os.PodFailurePolicy, specPath.Child("podFailurePolicy"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.BackoffLimitPerIndex, os.BackoffLimitPerIndex, specPath.Child("backoffLimitPerIndex"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(s.ManagedBy, os.ManagedBy, specPath.Child("managedBy"))...)
	if !elasticIndexedUpdate(s, os) {
		errs = append(errs, apivalidation.ValidateImmutableField(s.Completions, os.Completions, specPath.Child("completions"))...)
	}
	return append(errs, validateTemplateUpdate(j, o)...)
}

// elasticIndexedUpdate reports an Indexed job scaled by changing
// completions and parallelism together, which upstream allows.
func elasticIndexedUpdate(s, old *batchv1.JobSpec) bool {
	return s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion &&
		s.Completions != nil && s.Parallelism != nil && *s.Completions == *s.Parallelism &&
		old.Completions != nil && old.Parallelism != nil && *old.Completions == *old.Parallelism
}

// validateTemplateUpdate keeps the pod template fixed, except that a
// suspended job that never started may change where its pods schedule.
func validateTemplateUpdate(j, o *batchv1.Job) field.ErrorList {
	tmpl, oldTmpl := j.Spec.Template.DeepCopy(), o.Spec.Template.DeepCopy()
	if j.Spec.Suspend != nil && *j.Spec.Suspend && o.Status.StartTime == nil {
		for _, t := range []*corev1.PodTemplateSpec{tmpl, oldTmpl} {
			t.Labels, t.Annotations = nil, nil
			t.Spec.NodeSelector, t.Spec.Tolerations, t.Spec.Affinity, t.Spec.SchedulingGates = nil, nil, nil, nil
		}
	}
	if !apiequality.Semantic.DeepEqual(tmpl, oldTmpl) {
		return field.ErrorList{field.Invalid(specPath.Child("template"), j.Spec.Template, apivalidation.FieldImmutableErrorMsg)}
	}
	return nil
}

// ValidateStatusUpdate checks a write to jobs/status.
func (JobStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	j, o := obj.(*batchv1.Job), old.(*batchv1.Job)
	s := &j.Status
	errs := apivalidation.ValidateObjectMetaUpdate(&j.ObjectMeta, &o.ObjectMeta, metaPath)
	for _, c := range []struct {
		name string
		v    int32
	}{{"active", s.Active}, {"succeeded", s.Succeeded}, {"failed", s.Failed}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.v), statusPath.Child(c.name))...)
	}
	errs = append(errs, nonNegativePtr(s.Ready, statusPath.Child("ready"))...)
	return append(errs, nonNegativePtr(s.Terminating, statusPath.Child("terminating"))...)
}

// jobFields adds status.successful, which upstream makes selectable.
func jobFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
}

func jobResource() *registry.Resource {
	return &registry.Resource{
		Group: "batch", Version: "v1", Resource: "jobs",
		Kind: "Job", Singular: "job",
		Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &batchv1.Job{} },
		NewList:    func() runtime.Object { return &batchv1.JobList{} },
		Strategy:   JobStrategy{},
		Fields:     jobFields,
		HasStatus:  true,
	}
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func int32Ptr(v int32) *int32 { return &v }

func boolPtr(v bool) *bool { return &v }
