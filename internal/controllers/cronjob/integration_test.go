package cronjob_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/cronjob"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

type harness struct {
	t     *testing.T
	ctx   context.Context
	env   *testserver.Env
	c     kubernetes.Interface
	ns    string
	clock *clocktesting.FakeClock
	last  time.Time // latest creationTimestamp of the test's CronJobs
}

func newHarness(t *testing.T, ns string) *harness {
	t.Helper()
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &harness{t: t, ctx: ctx, env: env, c: env.Client, ns: env.Namespace(t, ns)}
}

// run starts the controller on a fake clock set to the latest creation
// time of the CronJobs made so far: the server stamps creationTimestamp
// with the real time, and tests then move the clock a minute at a time.
func (h *harness) run() {
	h.t.Helper()
	cc, start := h.env.ControllerContext(h.t, h.ctx)
	h.clock = clocktesting.NewFakeClock(h.last)
	ctl, err := cronjob.NewWithOptions(cc, cronjob.Options{Clock: h.clock, Location: time.UTC})
	if err != nil {
		h.t.Fatal(err)
	}
	start()
	go ctl.Run(h.ctx)
}

func (h *harness) cronJob(name string, policy batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	h.t.Helper()
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: batchv1.CronJobSpec{
			Schedule: "* * * * *", ConcurrencyPolicy: policy,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"run": name}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
				}}},
			},
		},
	}
	out, err := h.c.BatchV1().CronJobs(h.ns).Create(h.ctx, cj, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	if out.CreationTimestamp.After(h.last) {
		h.last = out.CreationTimestamp.Time
	}
	return out
}

// nextMinute moves the fake clock just past the next whole minute, once
// the controller has armed its wake-up, and returns that minute.
func (h *harness) nextMinute(waiters int) time.Time {
	h.t.Helper()
	testserver.Eventually(h.t, 10*time.Second, "the controller to arm its timers", func() (bool, error) {
		return h.clock.Waiters() >= waiters, nil
	})
	m := h.clock.Now().Truncate(time.Minute).Add(time.Minute)
	h.clock.SetTime(m.Add(time.Second))
	return m
}

func (h *harness) waitJob(name string) *batchv1.Job {
	h.t.Helper()
	var j *batchv1.Job
	testserver.Eventually(h.t, 10*time.Second, "job "+name, func() (bool, error) {
		var err error
		j, err = h.c.BatchV1().Jobs(h.ns).Get(h.ctx, name, metav1.GetOptions{})
		return err == nil, err
	})
	return j
}

func (h *harness) jobs(cronJob string) []batchv1.Job {
	h.t.Helper()
	l, err := h.c.BatchV1().Jobs(h.ns).List(h.ctx, metav1.ListOptions{LabelSelector: "run=" + cronJob})
	if err != nil {
		h.t.Fatal(err)
	}
	return l.Items
}

func (h *harness) waitEvent(obj, reason string) {
	h.t.Helper()
	sel := fields.Set{"involvedObject.name": obj, "reason": reason}.AsSelector().String()
	testserver.Eventually(h.t, 10*time.Second, "event "+reason+" on "+obj, func() (bool, error) {
		l, err := h.c.CoreV1().Events(h.ns).List(h.ctx, metav1.ListOptions{FieldSelector: sel})
		return err == nil && len(l.Items) > 0, err
	})
}

func (h *harness) complete(j *batchv1.Job) {
	h.t.Helper()
	now := metav1.Now()
	j.Status.StartTime, j.Status.CompletionTime, j.Status.Succeeded = &now, &now, 1
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached},
	}
	if _, err := h.c.BatchV1().Jobs(h.ns).UpdateStatus(h.ctx, j, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

func TestCronJobRunsOnScheduleAndForbidHoldsRuns(t *testing.T) {
	h := newHarness(t, "cron")
	allow := h.cronJob("allow", batchv1.AllowConcurrent)
	forbid := h.cronJob("forbid", batchv1.ForbidConcurrent)
	h.run()

	first := h.nextMinute(2)
	for _, name := range []string{"allow", "forbid"} {
		j := h.waitJob(fmt.Sprintf("%s-%d", name, first.Unix()/60))
		if !metav1.IsControlledBy(j, allow) && !metav1.IsControlledBy(j, forbid) {
			t.Errorf("job %s is not controlled by its CronJob: %v", j.Name, j.OwnerReferences)
		}
		if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != first.UTC().Format(time.RFC3339) {
			t.Errorf("job %s scheduled-timestamp = %q, want %s", j.Name, got, first.UTC().Format(time.RFC3339))
		}
	}
	testserver.Eventually(t, 10*time.Second, "status of allow", func() (bool, error) {
		cj, err := h.c.BatchV1().CronJobs(h.ns).Get(h.ctx, "allow", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 1 && cj.Status.LastScheduleTime != nil &&
			cj.Status.LastScheduleTime.Equal(&metav1.Time{Time: first}), err
	})
	h.waitEvent("allow", "SuccessfulCreate")

	// A minute later Allow runs again; Forbid holds back while its first run is active.
	second := h.nextMinute(2)
	h.waitJob(fmt.Sprintf("allow-%d", second.Unix()/60))
	h.waitEvent("forbid", "JobAlreadyActive")
	if n := len(h.jobs("forbid")); n != 1 {
		t.Fatalf("forbid has %d jobs while its first is active, want 1", n)
	}

	// When the first run finishes, the held-back run starts (late).
	h.complete(h.waitJob(fmt.Sprintf("forbid-%d", first.Unix()/60)))
	h.waitJob(fmt.Sprintf("forbid-%d", second.Unix()/60))
	testserver.Eventually(t, 10*time.Second, "forbid's lastSuccessfulTime and active list", func() (bool, error) {
		cj, err := h.c.BatchV1().CronJobs(h.ns).Get(h.ctx, "forbid", metav1.GetOptions{})
		return err == nil && cj.Status.LastSuccessfulTime != nil && len(cj.Status.Active) == 1 &&
			cj.Status.Active[0].Name == fmt.Sprintf("forbid-%d", second.Unix()/60), err
	})
	h.waitEvent("forbid", "SawCompletedJob")
}

func TestCronJobReplaceSuspendAndHistory(t *testing.T) {
	h := newHarness(t, "cron-replace")
	replace := h.cronJob("replace", batchv1.ReplaceConcurrent)
	h.run()
	first := h.nextMinute(1)
	h.waitJob(fmt.Sprintf("replace-%d", first.Unix()/60))
	second := h.nextMinute(1)
	h.waitJob(fmt.Sprintf("replace-%d", second.Unix()/60))
	testserver.Eventually(t, 10*time.Second, "the first run to be replaced", func() (bool, error) {
		j, err := h.c.BatchV1().Jobs(h.ns).Get(h.ctx, fmt.Sprintf("replace-%d", first.Unix()/60), metav1.GetOptions{})
		return err != nil || j.DeletionTimestamp != nil, nil
	})
	h.waitEvent("replace", "SuccessfulDelete")

	// Suspended: time passes, nothing runs, and no timer is left armed.
	replace, _ = h.c.BatchV1().CronJobs(h.ns).Get(h.ctx, "replace", metav1.GetOptions{})
	replace.Spec.Suspend = ptr.To(true)
	replace.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](0)
	if _, err := h.c.BatchV1().CronJobs(h.ns).Update(h.ctx, replace, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "the timer to be dropped", func() (bool, error) {
		return h.clock.Waiters() == 0, nil
	})
	h.clock.Step(3 * time.Minute)
	// A finished run beyond the history limit is deleted even while suspended.
	h.complete(h.waitJob(fmt.Sprintf("replace-%d", second.Unix()/60)))
	testserver.Eventually(t, 10*time.Second, "the finished run to be deleted (limit 0)", func() (bool, error) {
		j, err := h.c.BatchV1().Jobs(h.ns).Get(h.ctx, fmt.Sprintf("replace-%d", second.Unix()/60), metav1.GetOptions{})
		return err != nil || j.DeletionTimestamp != nil, nil
	})
	for _, j := range h.jobs("replace") {
		if j.DeletionTimestamp == nil {
			t.Errorf("suspended CronJob has a live job %s", j.Name)
		}
	}
}

func TestCronJobMissedRuns(t *testing.T) {
	h := newHarness(t, "cron-missed")
	h.cronJob("late", batchv1.AllowConcurrent)
	strict := h.cronJob("strict", batchv1.AllowConcurrent)
	strict.Spec.StartingDeadlineSeconds = ptr.To[int64](10)
	if _, err := h.c.BatchV1().CronJobs(h.ns).Update(h.ctx, strict, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.run()
	testserver.Eventually(t, 10*time.Second, "the controller to arm its timers", func() (bool, error) {
		return h.clock.Waiters() >= 2, nil
	})

	// 200 minutes pass with the controller asleep (the clock jumps past
	// every timer at once): only the most recent run starts, with a
	// warning; the strict one may start nothing 30 s after its time.
	last := h.clock.Now().Truncate(time.Minute).Add(200 * time.Minute)
	h.clock.SetTime(last.Add(30 * time.Second))
	h.waitJob(fmt.Sprintf("late-%d", last.Unix()/60))
	h.waitEvent("late", "TooManyMissedTimes")
	if n := len(h.jobs("late")); n != 1 {
		t.Errorf("late has %d jobs after 200 missed minutes, want 1", n)
	}
	testserver.Eventually(t, 10*time.Second, "strict to re-arm", func() (bool, error) {
		return h.clock.Waiters() >= 2, nil
	})
	if n := len(h.jobs("strict")); n != 0 {
		t.Errorf("strict started %d jobs past its starting deadline", n)
	}
	next := h.nextMinute(2)
	h.waitJob(fmt.Sprintf("strict-%d", next.Unix()/60))
}
