package cronjob

import (
	"context"
	"fmt"
	"maps"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/cron"
)

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	cj, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.requeueAt(key, time.Time{})
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	jobs, err := c.ownedJobs(cj)
	if err != nil {
		return controller.Result{}, err
	}
	cj = cj.DeepCopy()
	before := cj.Status.DeepCopy()
	if err := c.reconcileActive(ctx, cj, jobs); err != nil {
		return controller.Result{}, err
	}
	next, runErr := c.run(ctx, cj, jobs)
	if runErr == nil {
		runErr = c.cleanup(ctx, cj, jobs)
	}
	if !apiequality.Semantic.DeepEqual(before, &cj.Status) {
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("update status of cronjob %s: %w", key, err)
		}
	}
	if runErr != nil {
		return controller.Result{}, runErr
	}
	c.requeueAt(key, next)
	return controller.Result{}, nil
}

// reconcileActive makes status.active the unfinished Jobs cj controls, and
// records the latest successful completion.
func (c *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	seen := map[types.UID]bool{}
	for _, j := range jobs {
		seen[j.UID] = true
		cond := finished(j)
		active := inActive(cj, j.UID)
		switch {
		case cond == "" && !active:
			// Made by an attempt whose status update was lost, or by a
			// user for us to adopt: either way it is running under us.
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
			cj.Status.Active = append(cj.Status.Active, jobRef(j))
		case cond != "" && active:
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, cond)
			removeActive(cj, j.UID)
		}
		if cond == batchv1.JobComplete && j.Status.CompletionTime != nil &&
			(cj.Status.LastSuccessfulTime == nil || cj.Status.LastSuccessfulTime.Before(j.Status.CompletionTime)) {
			cj.Status.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
		}
	}
	for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if seen[ref.UID] {
			continue
		}
		// The cache may not show a Job created a moment ago: ask the API.
		j, err := c.client.BatchV1().Jobs(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || err == nil && j.UID != ref.UID:
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", ref.Name)
			removeActive(cj, ref.UID)
		case err != nil:
			return fmt.Errorf("get active job %s: %w", ref.Name, err)
		}
	}
	return nil
}

// run starts the Job of the most recent unmet activation, if it may, and
// returns when to sync again (zero: only on a change).
func (c *Controller) run(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (time.Time, error) {
	if cj.DeletionTimestamp != nil || (cj.Spec.Suspend != nil && *cj.Spec.Suspend) {
		return time.Time{}, nil
	}
	sched, loc, ok := c.parse(cj)
	if !ok {
		return time.Time{}, nil
	}
	now := c.opts.Clock.Now().In(loc)
	next := sched.Next(now)
	scheduled, missed := mostRecent(sched, earliestTime(cj, now), now)
	if scheduled.IsZero() {
		return next, nil
	}
	if missed > manyMissed {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if tooLate(cj, scheduled, now) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return next, nil
	}
	name := jobName(cj.Name, scheduled)
	for _, j := range jobs {
		if j.Name == name {
			markScheduled(cj, scheduled)
			return next, nil
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(cj.Status.Active) > 0 {
			// The run waits (it starts when the active one finishes, if
			// still within startingDeadlineSeconds).
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return next, nil
		}
	case batchv1.ReplaceConcurrent:
		if err := c.replaceActive(ctx, cj); err != nil {
			return time.Time{}, err
		}
	}
	return next, c.create(ctx, cj, scheduled)
}

// parse returns cj's schedule and zone, recording why it cannot run if
// it has neither (validation refuses both, but an old object may carry
// them).
func (c *Controller) parse(cj *batchv1.CronJob) (*cron.Schedule, *time.Location, bool) {
	sched, err := cron.Parse(cj.Spec.Schedule)
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return nil, nil, false
	}
	loc := c.opts.Location
	if l := sched.Location(); l != nil {
		loc = l
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", *tz, err)
			return nil, nil, false
		}
		loc = l
	}
	return sched, loc, true
}

func (c *Controller) replaceActive(ctx context.Context, cj *batchv1.CronJob) error {
	for _, ref := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if err := c.deleteJob(ctx, cj, ref.Name, ref.UID); err != nil {
			return err
		}
		removeActive(cj, ref.UID)
	}
	return nil
}

// deleteJob deletes a Job and, in the background, its pods.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, name string, uid types.UID) error {
	bg := metav1.DeletePropagationBackground
	err := c.client.BatchV1().Jobs(cj.Namespace).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("delete job %s/%s: %w", cj.Namespace, name, err)
	}
	if err == nil {
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	}
	return nil
}

func (c *Controller) create(ctx context.Context, cj *batchv1.CronJob, scheduled time.Time) error {
	j := newJob(cj, scheduled)
	out, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, j, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		existing, getErr := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("get existing job %s: %w", j.Name, getErr)
		}
		if !metav1.IsControlledBy(existing, cj) {
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
			return controller.Terminal(fmt.Errorf("job %s exists and is not controlled by cronjob %s", j.Name, cj.Name))
		}
		// An earlier attempt made it; its status update was lost.
		if finished(existing) == "" && !inActive(cj, existing.UID) {
			cj.Status.Active = append(cj.Status.Active, jobRef(existing))
		}
		markScheduled(cj, scheduled)
		return nil
	}
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return fmt.Errorf("create job %s: %w", j.Name, err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", out.Name)
	cj.Status.Active = append(cj.Status.Active, jobRef(out))
	markScheduled(cj, scheduled)
	return nil
}

// newJob is the Job of one activation of cj.
func newJob(cj *batchv1.CronJob, scheduled time.Time) *batchv1.Job {
	t := cj.Spec.JobTemplate.DeepCopy()
	ann := maps.Clone(t.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: jobName(cj.Name, scheduled), Namespace: cj.Namespace,
			Labels: maps.Clone(t.Labels), Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, kind)},
		},
		Spec: t.Spec,
	}
}

func markScheduled(cj *batchv1.CronJob, scheduled time.Time) {
	if cj.Status.LastScheduleTime == nil || cj.Status.LastScheduleTime.Time.Before(scheduled) {
		t := metav1.NewTime(scheduled)
		cj.Status.LastScheduleTime = &t
	}
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name,
		UID: j.UID, ResourceVersion: j.ResourceVersion,
	}
}

func inActive(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func removeActive(cj *batchv1.CronJob, uid types.UID) {
	out := cj.Status.Active[:0]
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			out = append(out, r)
		}
	}
	cj.Status.Active = out
	if len(out) == 0 {
		cj.Status.Active = nil
	}
}
