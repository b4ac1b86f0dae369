package batch

import (
	"context"
	"fmt"
	"strings"
	"time"
	// Embedded zone data, so timeZone validates the same on hosts without
	// /usr/share/zoneinfo (e.g. distroless images) as the controller runs.
	_ "time/tzdata"

	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/cron"
	"github.com/navarch/navarch/internal/registry"
	"github.com/navarch/navarch/internal/registry/core"
)

// maxCronJobNameLength leaves room for the 11-character suffix the
// controller appends to job names, which must stay DNS labels.
const maxCronJobNameLength = 52

// CronJobStrategy implements registry.Strategy for batch/v1 CronJobs.
type CronJobStrategy struct{ registry.BaseStrategy }

// Default applies the batch/v1 CronJob defaults. The job template's spec
// gets only pod template defaults, as upstream: the Job defaults apply
// when each Job is created.
func (CronJobStrategy) Default(obj runtime.Object) {
	c := obj.(*batchv1.CronJob)
	s := &c.Spec
	core.DefaultPodTemplateSpec(&s.JobTemplate.Spec.Template)
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = int32Ptr(3)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = int32Ptr(1)
	}
}

// PrepareForCreate clears the status the controller owns.
func (CronJobStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*batchv1.CronJob).Status = batchv1.CronJobStatus{}
}

// Validate checks a new CronJob.
func (CronJobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	c := obj.(*batchv1.CronJob)
	errs := apivalidation.ValidateObjectMeta(&c.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metaPath)
	if len(c.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(metaPath.Child("name"), c.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
	}
	return append(errs, validateCronJobSpec(&c.Spec, specPath)...)
}

// ValidateUpdate checks an update; the name length limit only applies on
// create, as upstream, so old objects stay updatable.
func (CronJobStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	c, o := obj.(*batchv1.CronJob), old.(*batchv1.CronJob)
	errs := apivalidation.ValidateObjectMetaUpdate(&c.ObjectMeta, &o.ObjectMeta, metaPath)
	return append(errs, validateCronJobSpec(&c.Spec, specPath)...)
}

func validateCronJobSpec(s *batchv1.CronJobSpec, fld *field.Path) field.ErrorList {
	errs := validateSchedule(s.Schedule, s.TimeZone, fld)
	switch s.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(fld.Child("concurrencyPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(fld.Child("concurrencyPolicy"), s.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	errs = append(errs, nonNegativePtr(s.StartingDeadlineSeconds, fld.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr(s.SuccessfulJobsHistoryLimit, fld.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegativePtr(s.FailedJobsHistoryLimit, fld.Child("failedJobsHistoryLimit"))...)
	jt := fld.Child("jobTemplate")
	errs = append(errs, metav1validation.ValidateLabels(s.JobTemplate.Labels, jt.Child("metadata", "labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(s.JobTemplate.Annotations, jt.Child("metadata", "annotations"))...)
	return append(errs, validateJobSpec(&s.JobTemplate.Spec, jt.Child("spec"), false)...)
}

func validateSchedule(schedule string, tz *string, fld *field.Path) field.ErrorList {
	sf := fld.Child("schedule")
	if schedule == "" {
		return field.ErrorList{field.Required(sf, "")}
	}
	var errs field.ErrorList
	if strings.Contains(schedule, "TZ") {
		msg := "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
		if tz != nil {
			msg = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
		}
		errs = append(errs, field.Invalid(sf, schedule, msg))
	} else if _, err := cron.Parse(schedule); err != nil {
		errs = append(errs, field.Invalid(sf, schedule, err.Error()))
	}
	if tz != nil {
		errs = append(errs, validateTimeZone(*tz, fld.Child("timeZone"))...)
	}
	return errs
}

func validateTimeZone(tz string, fld *field.Path) field.ErrorList {
	if strings.EqualFold(tz, "Local") {
		return field.ErrorList{field.Invalid(fld, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return field.ErrorList{field.Invalid(fld, tz, err.Error())}
	}
	return nil
}

func cronJobResource() *registry.Resource {
	return &registry.Resource{
		Group: "batch", Version: "v1", Resource: "cronjobs",
		Kind: "CronJob", Singular: "cronjob",
		ShortNames: []string{"cj"}, Categories: []string{"all"},
		Namespaced: true,
		New:        func() runtime.Object { return &batchv1.CronJob{} },
		NewList:    func() runtime.Object { return &batchv1.CronJobList{} },
		Strategy:   CronJobStrategy{},
		HasStatus:  true,
	}
}
