package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func pod(phase corev1.PodPhase, finished time.Time) *corev1.Pod {
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
	if !finished.IsZero() {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(finished)},
		}}}
	}
	return p
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 10 * time.Second, Max: 6 * time.Minute}
	cases := []struct {
		n    int
		want time.Duration
	}{{0, 0}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {5, 160 * time.Second},
		{6, 320 * time.Second}, {7, 6 * time.Minute}, {100, 6 * time.Minute}}
	for _, c := range cases {
		if got := b.delay(c.n); got != c.want {
			t.Errorf("delay(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestBackoffRemaining(t *testing.T) {
	b := Backoff{Base: 10 * time.Second, Max: 6 * time.Minute}
	j := &batchv1.Job{}
	cases := []struct {
		name string
		pods []*corev1.Pod
		want time.Duration
	}{
		{"no failures", []*corev1.Pod{pod(corev1.PodSucceeded, t0.Add(-time.Second))}, 0},
		{"one failure just now", []*corev1.Pod{pod(corev1.PodFailed, t0.Add(-3*time.Second))}, 7 * time.Second},
		{"two failures", []*corev1.Pod{pod(corev1.PodFailed, t0.Add(-30*time.Second)), pod(corev1.PodFailed, t0.Add(-5*time.Second))}, 15 * time.Second},
		{"waited long enough", []*corev1.Pod{pod(corev1.PodFailed, t0.Add(-time.Minute))}, 0},
		{"a later success resets", []*corev1.Pod{pod(corev1.PodFailed, t0.Add(-5*time.Second)), pod(corev1.PodSucceeded, t0.Add(-time.Second))}, 0},
		{"failures after the success count", []*corev1.Pod{pod(corev1.PodSucceeded, t0.Add(-time.Minute)), pod(corev1.PodFailed, t0.Add(-2*time.Second))}, 8 * time.Second},
	}
	for _, c := range cases {
		if got := b.remaining(j, c.pods, t0); got != c.want {
			t.Errorf("%s: remaining = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPodClassification(t *testing.T) {
	deleting := pod(corev1.PodRunning, time.Time{})
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	failedPolicy := &batchv1.Job{Spec: batchv1.JobSpec{PodReplacementPolicy: ptr.To(batchv1.Failed)}}
	cases := []struct {
		name                string
		job                 *batchv1.Job
		pod                 *corev1.Pod
		failed, terminating bool
	}{
		{"running", &batchv1.Job{}, pod(corev1.PodRunning, time.Time{}), false, false},
		{"failed", &batchv1.Job{}, pod(corev1.PodFailed, t0), true, false},
		{"deleted before finishing counts as failed", &batchv1.Job{}, deleting, true, true},
		{"podReplacementPolicy Failed waits for the phase", failedPolicy, deleting, false, true},
	}
	for _, c := range cases {
		if got := isFailed(c.job, c.pod); got != c.failed {
			t.Errorf("%s: isFailed = %v", c.name, got)
		}
		if got := isTerminating(c.pod); got != c.terminating {
			t.Errorf("%s: isTerminating = %v", c.name, got)
		}
	}
	if got := finishTime(deleting); !got.Equal(t0) {
		t.Errorf("finishTime of a deleted pod = %v, want its deletion time", got)
	}
}

func TestPastBackoffLimit(t *testing.T) {
	restarting := pod(corev1.PodRunning, time.Time{})
	restarting.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: 2}}
	never := func(limit int32) *batchv1.Job {
		j := &batchv1.Job{Spec: batchv1.JobSpec{BackoffLimit: ptr.To(limit)}}
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		return j
	}
	onFailure := func(limit int32) *batchv1.Job {
		j := never(limit)
		j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		return j
	}
	cases := []struct {
		name   string
		job    *batchv1.Job
		failed int32
		active []*corev1.Pod
		want   bool
	}{
		{"under", never(2), 2, nil, false},
		{"over", never(2), 3, nil, true},
		{"limit 0, one failure", never(0), 1, nil, true},
		{"restarts ignored with Never", never(1), 0, []*corev1.Pod{restarting}, false},
		{"restarts reach the limit with OnFailure", onFailure(2), 0, []*corev1.Pod{restarting}, true},
		{"restarts under the limit", onFailure(3), 0, []*corev1.Pod{restarting}, false},
		{"default limit 6", &batchv1.Job{}, 7, nil, true},
	}
	for _, c := range cases {
		if got := pastBackoffLimit(c.job, c.failed, c.active); got != c.want {
			t.Errorf("%s: pastBackoffLimit = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDeadlineLeft(t *testing.T) {
	start := metav1.NewTime(t0.Add(-30 * time.Second))
	cases := []struct {
		name     string
		deadline *int64
		start    *metav1.Time
		suspend  bool
		left     time.Duration
		ok       bool
	}{
		{"no deadline", nil, &start, false, 0, false},
		{"not started", ptr.To[int64](10), nil, false, 0, false},
		{"suspended", ptr.To[int64](10), &start, true, 0, false},
		{"passed", ptr.To[int64](10), &start, false, 0, true},
		{"running", ptr.To[int64](60), &start, false, 30 * time.Second, true},
	}
	for _, c := range cases {
		j := &batchv1.Job{Spec: batchv1.JobSpec{ActiveDeadlineSeconds: c.deadline, Suspend: ptr.To(c.suspend)}}
		j.Status.StartTime = c.start
		left, ok := deadlineLeft(j, t0)
		if left != c.left || ok != c.ok {
			t.Errorf("%s: deadlineLeft = %v, %v; want %v, %v", c.name, left, ok, c.left, c.ok)
		}
	}
}

func TestWantActiveAndSuccess(t *testing.T) {
	job := func(completions *int32, par int32, indexed bool) *batchv1.Job {
		j := &batchv1.Job{Spec: batchv1.JobSpec{Completions: completions, Parallelism: ptr.To(par)}}
		if indexed {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		}
		return j
	}
	cases := []struct {
		name      string
		job       *batchv1.Job
		succeeded int32
		active    int
		want      int
		done      bool
	}{
		{"fresh", job(ptr.To[int32](3), 2, false), 0, 0, 2, false},
		{"one left", job(ptr.To[int32](3), 2, false), 2, 1, 1, false},
		{"all done", job(ptr.To[int32](3), 2, false), 3, 0, 0, true},
		{"done but pods still active", job(ptr.To[int32](3), 2, false), 3, 1, 0, false},
		{"work queue before a success", job(nil, 3, false), 0, 1, 3, false},
		{"work queue after a success", job(nil, 3, false), 1, 2, 2, false},
		{"work queue finished", job(nil, 3, false), 1, 0, 0, true},
		{"parallelism zero", job(ptr.To[int32](3), 0, false), 0, 0, 0, false},
		{"indexed done even with stragglers", job(ptr.To[int32](2), 2, true), 2, 1, 0, true},
	}
	for _, c := range cases {
		if got := wantActive(c.job, c.succeeded, c.active); got != c.want {
			t.Errorf("%s: wantActive = %d, want %d", c.name, got, c.want)
		}
		if got := succeededEnough(c.job, c.succeeded, c.active); got != c.done {
			t.Errorf("%s: succeededEnough = %v, want %v", c.name, got, c.done)
		}
	}
}

func TestSetCondition(t *testing.T) {
	st := &batchv1.JobStatus{}
	if !setCondition(st, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, t0) {
		t.Fatal("adding a condition reported no change")
	}
	if setCondition(st, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, msgSuspended, t0.Add(time.Minute)) {
		t.Error("setting the same condition reported a change")
	}
	later := t0.Add(time.Hour)
	setCondition(st, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, msgResumed, later)
	c := condition(st, batchv1.JobSuspended)
	if len(st.Conditions) != 1 || c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Time.Equal(later) || c.Reason != reasonResumed {
		t.Errorf("conditions = %+v", st.Conditions)
	}
	if isFinished(st) {
		t.Error("a suspended job is not finished")
	}
	setCondition(st, batchv1.JobFailed, corev1.ConditionTrue, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit, later)
	if !isFinished(st) {
		t.Error("a failed job is finished")
	}
}
