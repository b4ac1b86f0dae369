package job

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/controller"
	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// state is one sync's view of a Job and its pods.
type state struct {
	key    string
	job    *batchv1.Job // a private copy, its status being rewritten
	pods   []*corev1.Pod
	active []*corev1.Pod
	// terminating counts pods being deleted that have not finished.
	terminating int
	// created counts pods made in this sync (not in the cache yet).
	created   int
	succeeded int32
	failed    int32
	done      indexSet // Indexed: the succeeded indexes
	// failedIdx are the failed indexes of a Job with backoffLimitPerIndex
	// (nil otherwise).
	failedIdx indexSet
	now       time.Time
	// failJob is the message of the first FailJob rule of the pod failure
	// policy a newly failed pod matched ("" if none).
	failJob string
	// ignored are failed pods the pod failure policy ignores: they are
	// not counted, only released from the tracking finalizer.
	ignored []*corev1.Pod
}

func (c *Controller) sync(ctx context.Context, key string) (controller.Result, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	shared, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if m := shared.Spec.ManagedBy; m != nil && *m != managedBy {
		return controller.Result{}, nil // another controller runs it
	}
	j := shared.DeepCopy()
	pods, err := c.claimPods(ctx, j)
	if err != nil {
		return controller.Result{}, err
	}
	if isFinished(&j.Status) || j.DeletionTimestamp != nil {
		// Nothing more is counted: let every pod go.
		return controller.Result{}, c.removeFinalizers(ctx, key, withFinalizer(pods))
	}
	s := c.observe(key, j, pods)
	c.suspension(s)
	c.decide(s)
	var requeue time.Duration
	var manageErr error
	switch {
	case hasTrue(&j.Status, batchv1.JobFailureTarget) || hasTrue(&j.Status, batchv1.JobSuccessCriteriaMet) || suspended(j):
		manageErr = c.deletePods(ctx, s, s.active)
	case c.expect.Satisfied(key):
		requeue, manageErr = c.manage(ctx, s)
	}
	st := &j.Status
	st.Active = int32(len(s.active) + s.created)
	st.Ready = ptr.To(int32(countReady(s.active)))
	st.Terminating = ptr.To(int32(s.terminating))
	j, err = c.flush(ctx, s, shared)
	if err != nil {
		return controller.Result{}, err
	}
	if err := c.finish(ctx, s, j); err != nil {
		return controller.Result{}, err
	}
	if manageErr != nil {
		return controller.Result{}, manageErr
	}
	if left, ok := deadlineLeft(j, c.opts.Clock.Now()); ok && left > 0 && (requeue == 0 || left < requeue) {
		requeue = left
	}
	return controller.Result{RequeueAfter: requeue}, nil
}

// claimPods returns the Job's pods, adopting orphans its selector matches.
func (c *Controller) claimPods(ctx context.Context, j *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return nil, controller.Terminal(fmt.Errorf("job %s/%s has an invalid selector: %w", j.Namespace, j.Name, err))
	}
	if sel.Empty() {
		sel = labels.Nothing()
	}
	all, err := c.pods.Pods(j.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	m := &podcontrol.RefManager{Owner: j, GVK: kind, Selector: sel,
		CanAdopt: podcontrol.RecheckOwner(func(ctx context.Context) (metav1.Object, error) {
			return c.client.BatchV1().Jobs(j.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
		}, j.UID)}
	return m.ClaimPods(ctx, c.client, all)
}

// observe records newly finished pods as uncounted and computes the
// counts the decisions use.
func (c *Controller) observe(key string, j *batchv1.Job, pods []*corev1.Pod) *state {
	s := &state{key: key, job: j, pods: pods, now: c.opts.Clock.Now()}
	st := &j.Status
	if st.UncountedTerminatedPods == nil {
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	if isIndexed(j) {
		s.done = parseIndexes(st.CompletedIndexes, completions)
		if j.Spec.BackoffLimitPerIndex != nil {
			s.failedIdx = parseIndexes(ptr.Deref(st.FailedIndexes, ""), completions)
		}
	}
	u := st.UncountedTerminatedPods
	for _, p := range pods {
		switch {
		case podcontrol.IsActive(p):
			s.active = append(s.active, p)
		case isTerminating(p):
			s.terminating++
		}
		if !hasFinalizer(p) || c.removalPending(key, p.UID) || uncounted(u, p.UID) {
			continue
		}
		switch {
		case isSucceeded(p):
			u.Succeeded = append(u.Succeeded, p.UID)
			if s.done != nil {
				if i := podIndex(p, completions); i != noIndex {
					s.done[i] = true
				}
			}
		case isFailed(j, p):
			action, msg, _ := matchFailurePolicy(j.Spec.PodFailurePolicy, p)
			switch action {
			case batchv1.PodFailurePolicyActionIgnore:
				s.ignored = append(s.ignored, p)
				continue
			case batchv1.PodFailurePolicyActionFailJob:
				if s.failJob == "" {
					s.failJob = msg
				}
			}
			if s.failedIdx != nil {
				if i := podIndex(p, completions); i != noIndex && !s.done[i] && failsIndex(j, p, action) {
					s.failedIdx[i] = true
				}
			}
			u.Failed = append(u.Failed, p.UID)
		}
	}
	s.succeeded = st.Succeeded + int32(len(u.Succeeded))
	if s.done != nil {
		st.CompletedIndexes = s.done.String()
		st.Succeeded = int32(len(s.done))
		s.succeeded = st.Succeeded
	}
	if s.failedIdx != nil {
		st.FailedIndexes = ptr.To(s.failedIdx.String())
	}
	s.failed = st.Failed + int32(len(u.Failed))
	return s
}

// suspension keeps the Suspended condition and startTime: a resumed Job
// starts its activeDeadlineSeconds clock again.
func (c *Controller) suspension(s *state) {
	j, st := s.job, &s.job.Status
	if suspended(j) {
		if setCondition(st, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, s.now) {
			c.recorder.Event(j, corev1.EventTypeNormal, "Suspended", msgSuspended)
		}
		return
	}
	if hasTrue(st, batchv1.JobSuspended) {
		setCondition(st, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, msgResumed, s.now)
		c.recorder.Event(j, corev1.EventTypeNormal, "Resumed", msgResumed)
		st.StartTime = nil
	}
	if st.StartTime == nil {
		st.StartTime = ptr.To(metav1.NewTime(s.now))
	}
}

// decide sets FailureTarget or SuccessCriteriaMet once the outcome is
// known; the terminal condition follows when no pod is left (finish).
func (c *Controller) decide(s *state) {
	j, st := s.job, &s.job.Status
	if hasTrue(st, batchv1.JobFailureTarget) || hasTrue(st, batchv1.JobSuccessCriteriaMet) || suspended(j) {
		return
	}
	switch {
	case s.failJob != "":
		setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, batchv1.JobReasonPodFailurePolicy, s.failJob, s.now)
	case pastBackoffLimit(j, s.failed, s.active):
		setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit, s.now)
	case deadlinePassed(j, s.now):
		setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, batchv1.JobReasonDeadlineExceeded, msgDeadline, s.now)
	case s.failedIdx != nil && j.Spec.MaxFailedIndexes != nil && len(s.failedIdx) > int(*j.Spec.MaxFailedIndexes):
		setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes, s.now)
	case s.done != nil && successMatched(j, s.done) >= 0:
		msg := fmt.Sprintf(msgSuccessPolicy, successMatched(j, s.done))
		setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, batchv1.JobReasonSuccessPolicy, msg, s.now)
	case len(s.failedIdx) > 0 && len(union(s.done, s.failedIdx)) >= int(*j.Spec.Completions):
		setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, batchv1.JobReasonFailedIndexes, msgFailedIndexes, s.now)
	case succeededEnough(j, s.succeeded, len(s.active)):
		setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, batchv1.JobReasonCompletionsReached, msgCompletions, s.now)
	}
}

// successMatched is the index of the success policy rule j meets, or -1.
func successMatched(j *batchv1.Job, done indexSet) int {
	if i, ok := successPolicyMet(j.Spec.SuccessPolicy, done, int(ptr.Deref(j.Spec.Completions, 0))); ok {
		return i
	}
	return -1
}

func deadlinePassed(j *batchv1.Job, now time.Time) bool {
	left, ok := deadlineLeft(j, now)
	return ok && left <= 0
}

// finish adds Failed or Complete once the outcome is known and every pod
// has stopped and been counted.
func (c *Controller) finish(ctx context.Context, s *state, j *batchv1.Job) error {
	st := &j.Status
	u := st.UncountedTerminatedPods
	if st.Active > 0 || ptr.Deref(st.Terminating, 0) > 0 || (u != nil && len(u.Succeeded)+len(u.Failed) > 0) {
		return nil
	}
	var eventType, reason, msg string
	if t := condition(st, batchv1.JobFailureTarget); t != nil && t.Status == corev1.ConditionTrue {
		setCondition(st, batchv1.JobFailed, corev1.ConditionTrue, t.Reason, t.Message, s.now)
		eventType, reason, msg = corev1.EventTypeWarning, t.Reason, t.Message
	} else if t := condition(st, batchv1.JobSuccessCriteriaMet); t != nil && t.Status == corev1.ConditionTrue {
		setCondition(st, batchv1.JobComplete, corev1.ConditionTrue, t.Reason, t.Message, s.now)
		st.CompletionTime = ptr.To(metav1.NewTime(s.now))
		eventType, reason, msg = corev1.EventTypeNormal, "Completed", "Job completed"
	} else {
		return nil
	}
	if _, err := c.client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status of job %s: %w", s.key, err)
	}
	c.recorder.Event(j, eventType, reason, msg)
	return nil
}

func countReady(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if podcontrol.IsReady(p) {
			n++
		}
	}
	return n
}
