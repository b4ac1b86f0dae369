package printers

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func init() {
	register("batch", "jobs", typed[*batchv1.Job]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			str("Status", "Overall state of the job."),
			str("Completions", "Succeeded pods out of desired completions."),
			str("Duration", "How long the job ran, or has been running."),
			ageCol(),
		}, wideWorkload(true)...),
		cells: jobCells,
	})
	register("batch", "cronjobs", typed[*batchv1.CronJob]{
		cols: append([]metav1.TableColumnDefinition{
			nameCol(),
			str("Schedule", "Cron schedule of the job."),
			str("Timezone", "Time zone the schedule is interpreted in."),
			str("Suspend", "Whether new runs are suspended."),
			num("Active", "Number of currently running jobs."),
			str("Last Schedule", "Time since the job was last scheduled."),
			ageCol(),
		}, wideWorkload(true)...),
		cells: cronJobCells,
	})
}

func jobCells(o *batchv1.Job, now time.Time) ([]interface{}, error) {
	sel, err := selectorString(o.Spec.Selector)
	if err != nil {
		return nil, err
	}
	containers, images := podTemplateWide(o.Spec.Template.Spec)
	return []interface{}{
		o.Name, jobStatus(o), jobCompletions(o), jobDuration(o, now), age(o.ObjectMeta, now),
		containers, images, sel,
	}, nil
}

func jobCompletions(o *batchv1.Job) string {
	if o.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", o.Status.Succeeded, *o.Spec.Completions)
	}
	// Work-queue jobs: one success finishes the job, however parallel.
	if p := o.Spec.Parallelism; p != nil && *p > 1 {
		return fmt.Sprintf("%d/1 of %d", o.Status.Succeeded, *p)
	}
	return fmt.Sprintf("%d/1", o.Status.Succeeded)
}

func jobDuration(o *batchv1.Job, now time.Time) string {
	switch {
	case o.Status.StartTime == nil:
		return ""
	case o.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(o.Status.StartTime.Time))
	default:
		return duration.HumanDuration(o.Status.CompletionTime.Sub(o.Status.StartTime.Time))
	}
}

// jobStatus checks terminal conditions first so a finished job never
// reads as Terminating or Suspended.
func jobStatus(o *batchv1.Job) string {
	has := func(t batchv1.JobConditionType) bool {
		for _, c := range o.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	}
	switch {
	case has(batchv1.JobComplete):
		return "Complete"
	case has(batchv1.JobFailed):
		return "Failed"
	case o.DeletionTimestamp != nil:
		return "Terminating"
	case has(batchv1.JobSuspended):
		return "Suspended"
	case has(batchv1.JobFailureTarget):
		return "FailureTarget"
	case has(batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

func cronJobCells(o *batchv1.CronJob, now time.Time) ([]interface{}, error) {
	tmpl := o.Spec.JobTemplate.Spec
	sel, err := selectorString(tmpl.Selector)
	if err != nil {
		return nil, err
	}
	last := none
	if o.Status.LastScheduleTime != nil {
		last = since(*o.Status.LastScheduleTime, now)
	}
	suspend := unset
	if o.Spec.Suspend != nil {
		suspend = fmt.Sprintf("%v", *o.Spec.Suspend)
	}
	containers, images := podTemplateWide(tmpl.Template.Spec)
	return []interface{}{
		o.Name, o.Spec.Schedule, derefOr(o.Spec.TimeZone, none), suspend, int64(len(o.Status.Active)),
		last, age(o.ObjectMeta, now), containers, images, sel,
	}, nil
}
