package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition messages, as upstream writes them.
const (
	msgBackoffLimit = "Job has reached the specified backoff limit"
	msgDeadline     = "Job was active longer than specified deadline"
	msgCompletions  = "Reached expected number of succeeded pods"
	// msgSuccessPolicy takes the index of the success policy rule met.
	msgSuccessPolicy    = "Matched rules at index %d"
	msgMaxFailedIndexes = "Job has exceeded the specified maximal number of failed indexes"
	msgFailedIndexes    = "Job has failed indexes"
	reasonSuspended     = "JobSuspended"
	reasonResumed       = "JobResumed"
	msgSuspended        = "Job suspended"
	msgResumed          = "Job resumed"
)

// condition returns j's condition of type t, or nil.
func condition(st *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// hasTrue reports whether the condition of type t is True.
func hasTrue(st *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(st, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isFinished reports whether the Job reached Complete or Failed.
func isFinished(st *batchv1.JobStatus) bool {
	return hasTrue(st, batchv1.JobComplete) || hasTrue(st, batchv1.JobFailed)
}

// setCondition sets a condition, keeping its transition time when its
// status does not change. It reports whether anything changed.
func setCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	ts := metav1.NewTime(now)
	if c := condition(st, t); c != nil {
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return false
		}
		if c.Status != status {
			c.LastTransitionTime = ts
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, msg, ts
		return true
	}
	st.Conditions = append(st.Conditions, batchv1.JobCondition{
		Type: t, Status: status, Reason: reason, Message: msg, LastProbeTime: ts, LastTransitionTime: ts,
	})
	return true
}

// isSucceeded and isFailed classify a pod for counting. A pod being
// deleted before it succeeded counts as failed (it will never report
// otherwise), unless podReplacementPolicy is Failed, which waits for the
// Failed phase.
func isSucceeded(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded }

func isFailed(j *batchv1.Job, p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailed(j) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

func onlyReplaceFailed(j *batchv1.Job) bool {
	return j.Spec.PodReplacementPolicy != nil && *j.Spec.PodReplacementPolicy == batchv1.Failed
}

// isTerminating reports a pod being deleted that has not finished.
func isTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// finishTime estimates when a pod finished: its last container
// termination, else its Ready condition's last change, else its deletion,
// else its creation.
func finishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Terminated != nil && s.State.Terminated.FinishedAt.After(t) {
			t = s.State.Terminated.FinishedAt.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		return p.DeletionTimestamp.Time
	}
	return p.CreationTimestamp.Time
}

// Backoff is the delay before replacing failed pods: Base after the
// first failure since the last success, doubling with each further one,
// at most Max.
type Backoff struct{ Base, Max time.Duration }

// delay is the back-off after n consecutive failures.
func (b Backoff) delay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// remaining is how long pod creation must still wait at now, given the
// Job's finished pods (0: create now).
func (b Backoff) remaining(j *batchv1.Job, pods []*corev1.Pod, now time.Time) time.Duration {
	var lastSuccess, lastFailure time.Time
	for _, p := range pods {
		if isSucceeded(p) {
			if t := finishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		}
	}
	failures := 0
	for _, p := range pods {
		if !isFailed(j, p) || ignoredFailure(j, p) {
			continue
		}
		t := finishTime(p)
		if t.After(lastSuccess) {
			failures++
			if t.After(lastFailure) {
				lastFailure = t
			}
		}
	}
	if failures == 0 {
		return 0
	}
	return max(lastFailure.Add(b.delay(failures)).Sub(now), 0)
}

// readyIndexes splits the missing indexes of a Job with
// backoffLimitPerIndex into those whose own back-off has passed (each
// index's failures are counted apart, the last one setting the clock) and
// the shortest wait of the others (0: none waits).
func (b Backoff) readyIndexes(j *batchv1.Job, pods []*corev1.Pod, missing []int, completions int, now time.Time) (ready []int, wait time.Duration) {
	byIndex := map[int][]*corev1.Pod{}
	for _, p := range pods {
		if i := podIndex(p, completions); i != noIndex {
			byIndex[i] = append(byIndex[i], p)
		}
	}
	for _, i := range missing {
		left := b.remaining(j, byIndex[i], now)
		switch {
		case left == 0:
			ready = append(ready, i)
		case wait == 0 || left < wait:
			wait = left
		}
	}
	return ready, wait
}

// pastBackoffLimit reports whether the Job failed too often: more failed
// pods than backoffLimit or, with restartPolicy OnFailure, as many
// container restarts in its active pods.
func pastBackoffLimit(j *batchv1.Job, failed int32, active []*corev1.Pod) bool {
	limit := int32(6)
	if j.Spec.BackoffLimit != nil {
		limit = *j.Spec.BackoffLimit
	}
	if failed > limit {
		return true
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range active {
		for _, s := range p.Status.InitContainerStatuses {
			restarts += s.RestartCount
		}
		for _, s := range p.Status.ContainerStatuses {
			restarts += s.RestartCount
		}
	}
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

// deadlineLeft is how long the Job may still run under
// activeDeadlineSeconds (ok false: no deadline applies).
func deadlineLeft(j *batchv1.Job, now time.Time) (left time.Duration, ok bool) {
	if j.Spec.ActiveDeadlineSeconds == nil || j.Status.StartTime == nil || suspended(j) {
		return 0, false
	}
	end := j.Status.StartTime.Add(time.Duration(*j.Spec.ActiveDeadlineSeconds) * time.Second)
	return max(end.Sub(now), 0), true
}

func suspended(j *batchv1.Job) bool { return j.Spec.Suspend != nil && *j.Spec.Suspend }

func parallelism(j *batchv1.Job) int {
	if j.Spec.Parallelism == nil {
		return 1
	}
	return int(max(*j.Spec.Parallelism, 0))
}

func isIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion && j.Spec.Completions != nil
}

// wantActive is how many pods should run: parallelism, but no more than
// the completions still missing; a work queue (no completions) starts no
// new pods once one succeeded.
func wantActive(j *batchv1.Job, succeeded int32, active int) int {
	if j.Spec.Completions == nil {
		if succeeded > 0 {
			return min(active, parallelism(j))
		}
		return parallelism(j)
	}
	return max(min(int(*j.Spec.Completions-succeeded), parallelism(j)), 0)
}

// succeededEnough reports whether the Job met its completions.
func succeededEnough(j *batchv1.Job, succeeded int32, active int) bool {
	switch {
	case isIndexed(j):
		return succeeded >= *j.Spec.Completions
	case j.Spec.Completions == nil:
		return succeeded > 0 && active == 0
	default:
		return succeeded >= *j.Spec.Completions && active == 0
	}
}
