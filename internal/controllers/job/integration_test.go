package job_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/job"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 15 * time.Second

// h drives one namespace of a server where the Job controller runs and
// nothing else: the test plays scheduler and kubelet.
type h struct {
	t   *testing.T
	ctx context.Context
	c   kubernetes.Interface
	ns  string
}

func TestJobController(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc, start := env.ControllerContext(t, ctx)
	// A short back-off keeps the retries of these tests fast; its
	// arithmetic is unit-tested.
	ctl, err := job.NewWithOptions(cc, job.Options{Backoff: job.Backoff{Base: 100 * time.Millisecond, Max: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	start()
	go ctl.Run(ctx)
	mk := func(t *testing.T, ns string) *h { return &h{t: t, ctx: ctx, c: env.Client, ns: env.Namespace(t, ns)} }

	t.Run("completions 3 parallelism 2", func(t *testing.T) { testCompletions(mk(t, "completions")) })
	t.Run("backoff limit", func(t *testing.T) { testBackoffLimit(mk(t, "backoff")) })
	t.Run("deleted pod counts as failed", func(t *testing.T) { testDeletedPodCounted(mk(t, "deleted")) })
	t.Run("indexed", func(t *testing.T) { testIndexed(mk(t, "indexed")) })
	t.Run("active deadline", func(t *testing.T) { testDeadline(mk(t, "deadline")) })
	t.Run("suspend and resume", func(t *testing.T) { testSuspend(mk(t, "suspend")) })
	t.Run("pod failure policy", func(t *testing.T) { testPodFailurePolicy(mk(t, "pfp")) })
	t.Run("success policy", func(t *testing.T) { testSuccessPolicy(mk(t, "success")) })
	t.Run("backoff limit per index", func(t *testing.T) { testBackoffLimitPerIndex(mk(t, "perindex")) })
	t.Run("max failed indexes", func(t *testing.T) { testMaxFailedIndexes(mk(t, "maxfailed")) })
}

func (x *h) job(name string, mutate func(*batchv1.JobSpec)) *batchv1.Job {
	x.t.Helper()
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: x.ns},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
		}}},
	}
	mutate(&j.Spec)
	out, err := x.c.BatchV1().Jobs(x.ns).Create(x.ctx, j, metav1.CreateOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	return out
}

// pods lists the Job's pods that have not finished, oldest first.
func (x *h) pods(job string, all bool) []corev1.Pod {
	x.t.Helper()
	l, err := x.c.CoreV1().Pods(x.ns).List(x.ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		x.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if all || (p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return out
}

// waitActive waits until the Job has exactly n unfinished pods.
func (x *h) waitActive(job string, n int) []corev1.Pod {
	x.t.Helper()
	var ps []corev1.Pod
	testserver.Eventually(x.t, wait, fmt.Sprintf("%d active pods of %s", n, job), func() (bool, error) {
		ps = x.pods(job, false)
		return len(ps) == n, nil
	})
	return ps
}

// run reports a pod running and ready, as a kubelet would. (The Job
// controller does not look at spec.nodeName, so the pod stays unbound.)
func (x *h) run(p *corev1.Pod) {
	x.t.Helper()
	x.setStatus(p.Name, corev1.PodRunning, 0)
}

// end reports a pod finished with phase (Succeeded or Failed).
func (x *h) end(p *corev1.Pod, phase corev1.PodPhase) {
	x.t.Helper()
	code := int32(0)
	if phase == corev1.PodFailed {
		code = 1
	}
	x.setStatus(p.Name, phase, code)
}

func (x *h) setStatus(name string, phase corev1.PodPhase, exitCode int32, conds ...corev1.PodCondition) {
	x.t.Helper()
	p, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		x.t.Fatal(err)
	}
	now := metav1.Now()
	p.Status.Phase = phase
	ready := corev1.ConditionFalse
	state := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, StartedAt: now, FinishedAt: now}}
	if phase == corev1.PodRunning {
		ready = corev1.ConditionTrue
		state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	}
	p.Status.Conditions = append([]corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: now}}, conds...)
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Image: "busybox", State: state, Ready: ready == corev1.ConditionTrue}}
	if _, err := x.c.CoreV1().Pods(x.ns).UpdateStatus(x.ctx, p, metav1.UpdateOptions{}); err != nil {
		x.t.Fatalf("update status of %s: %v", name, err)
	}
}

// waitJob waits until cond holds for the Job.
func (x *h) waitJob(name, what string, cond func(*batchv1.Job) bool) *batchv1.Job {
	x.t.Helper()
	var j *batchv1.Job
	testserver.Eventually(x.t, wait, what, func() (bool, error) {
		var err error
		j, err = x.c.BatchV1().Jobs(x.ns).Get(x.ctx, name, metav1.GetOptions{})
		return err == nil && cond(j), err
	})
	return j
}

func (x *h) waitEvent(obj, reason string) {
	x.t.Helper()
	sel := fields.Set{"involvedObject.name": obj, "reason": reason}.AsSelector().String()
	testserver.Eventually(x.t, wait, "event "+reason+" on "+obj, func() (bool, error) {
		l, err := x.c.CoreV1().Events(x.ns).List(x.ctx, metav1.ListOptions{FieldSelector: sel})
		return err == nil && len(l.Items) > 0, err
	})
}

func condition(st *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func hasTrue(st *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(st, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

func conditionIs(j *batchv1.Job, t batchv1.JobConditionType, reason string) bool {
	c := condition(&j.Status, t)
	return c != nil && c.Status == corev1.ConditionTrue && c.Reason == reason
}

func hasFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// noFinalizers checks that every remaining pod of the Job was released.
func (x *h) noFinalizers(job string) {
	x.t.Helper()
	testserver.Eventually(x.t, wait, "tracking finalizers of "+job+" removed", func() (bool, error) {
		for _, p := range x.pods(job, true) {
			if hasFinalizer(&p) {
				return false, nil
			}
		}
		return true, nil
	})
}

func testCompletions(x *h) {
	x.job("three", func(s *batchv1.JobSpec) { s.Completions, s.Parallelism = ptr.To[int32](3), ptr.To[int32](2) })
	first := x.waitActive("three", 2)
	for _, p := range first {
		if !hasFinalizer(&p) {
			x.t.Errorf("pod %s lacks the tracking finalizer", p.Name)
		}
		x.run(&p)
	}
	x.waitJob("three", "2 active, 2 ready", func(j *batchv1.Job) bool {
		return j.Status.Active == 2 && ptr.Deref(j.Status.Ready, 0) == 2 && j.Status.StartTime != nil
	})
	x.end(&first[0], corev1.PodSucceeded)
	// One more pod replaces the succeeded one: never more than parallelism.
	ps := x.waitActive("three", 2)
	if ps[0].Name != first[1].Name && ps[1].Name != first[1].Name {
		x.t.Fatalf("active pods %s, %s; want %s still among them", ps[0].Name, ps[1].Name, first[1].Name)
	}
	x.waitJob("three", "one counted success", func(j *batchv1.Job) bool { return j.Status.Succeeded == 1 })
	x.end(&ps[0], corev1.PodSucceeded)
	x.end(&ps[1], corev1.PodSucceeded)
	j := x.waitJob("three", "Complete", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobComplete, batchv1.JobReasonCompletionsReached)
	})
	if j.Status.Succeeded != 3 || j.Status.Failed != 0 || j.Status.Active != 0 || j.Status.CompletionTime == nil ||
		!conditionIs(j, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached) ||
		len(j.Status.UncountedTerminatedPods.Succeeded)+len(j.Status.UncountedTerminatedPods.Failed) != 0 {
		x.t.Errorf("final status = %+v", j.Status)
	}
	if n := len(x.pods("three", true)); n != 3 {
		x.t.Errorf("the job made %d pods, want 3", n)
	}
	x.noFinalizers("three")
	x.waitEvent("three", "SuccessfulCreate")
	x.waitEvent("three", "Completed")
}

func testBackoffLimit(x *h) {
	x.job("flaky", func(s *batchv1.JobSpec) { s.BackoffLimit = ptr.To[int32](1) })
	p := x.waitActive("flaky", 1)[0]
	x.run(&p)
	x.end(&p, corev1.PodFailed)
	// Replaced after the back-off; the second failure exceeds the limit.
	q := x.waitActive("flaky", 1)[0]
	if q.Name == p.Name {
		x.t.Fatal("the failed pod was not replaced")
	}
	x.waitJob("flaky", "one counted failure", func(j *batchv1.Job) bool { return j.Status.Failed == 1 })
	x.run(&q)
	x.end(&q, corev1.PodFailed)
	j := x.waitJob("flaky", "Failed", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded)
	})
	ft := condition(&j.Status, batchv1.JobFailureTarget)
	if ft == nil || ft.Reason != batchv1.JobReasonBackoffLimitExceeded || ft.Message != "Job has reached the specified backoff limit" || j.Status.Failed != 2 ||
		j.Status.CompletionTime != nil || hasTrue(&j.Status, batchv1.JobComplete) {
		x.t.Errorf("final status = %+v", j.Status)
	}
	if n := len(x.pods("flaky", true)); n != 2 {
		x.t.Errorf("the job made %d pods, want 2", n)
	}
	x.noFinalizers("flaky")
	x.waitEvent("flaky", batchv1.JobReasonBackoffLimitExceeded)
}

func testDeletedPodCounted(x *h) {
	x.job("victim", func(s *batchv1.JobSpec) { s.BackoffLimit = ptr.To[int32](3) })
	p := x.waitActive("victim", 1)[0]
	// Deleted before it ran: the finalizer keeps it until it is counted.
	if err := x.c.CoreV1().Pods(x.ns).Delete(x.ctx, p.Name, metav1.DeleteOptions{}); err != nil {
		x.t.Fatal(err)
	}
	x.waitJob("victim", "the deleted pod counted as failed", func(j *batchv1.Job) bool { return j.Status.Failed == 1 })
	testserver.Eventually(x.t, wait, "the deleted pod to go", func() (bool, error) {
		_, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, p.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	q := x.waitActive("victim", 1)[0]
	x.end(&q, corev1.PodSucceeded)
	j := x.waitJob("victim", "Complete", func(j *batchv1.Job) bool { return hasTrue(&j.Status, batchv1.JobComplete) })
	if j.Status.Failed != 1 || j.Status.Succeeded != 1 {
		x.t.Errorf("final status = %+v", j.Status)
	}
}

func testIndexed(x *h) {
	x.job("idx", func(s *batchv1.JobSpec) {
		s.Completions, s.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		s.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	})
	ps := x.waitActive("idx", 3)
	seen := map[string]*corev1.Pod{}
	for i := range ps {
		ix := ps[i].Annotations[batchv1.JobCompletionIndexAnnotation]
		seen[ix] = &ps[i]
		if ps[i].Spec.Hostname != "idx-"+ix || ps[i].Labels[batchv1.JobCompletionIndexAnnotation] != ix {
			x.t.Errorf("pod %s: hostname %q, labels %v", ps[i].Name, ps[i].Spec.Hostname, ps[i].Labels)
		}
	}
	if len(seen) != 3 || seen["0"] == nil || seen["1"] == nil || seen["2"] == nil {
		x.t.Fatalf("indexes of the pods: %v", seen)
	}
	x.end(seen["1"], corev1.PodSucceeded)
	x.end(seen["0"], corev1.PodFailed)
	x.waitJob("idx", "index 1 completed", func(j *batchv1.Job) bool { return j.Status.CompletedIndexes == "1" && j.Status.Failed == 1 })
	// Index 0 gets a new pod; index 1 does not.
	ps = x.waitActive("idx", 2)
	for i := range ps {
		if ix := ps[i].Annotations[batchv1.JobCompletionIndexAnnotation]; ix == "1" {
			x.t.Errorf("completed index 1 got a new pod %s", ps[i].Name)
		}
		x.end(&ps[i], corev1.PodSucceeded)
	}
	j := x.waitJob("idx", "Complete", func(j *batchv1.Job) bool { return hasTrue(&j.Status, batchv1.JobComplete) })
	if j.Status.CompletedIndexes != "0-2" || j.Status.Succeeded != 3 {
		x.t.Errorf("final status = %+v", j.Status)
	}
}

func testDeadline(x *h) {
	x.job("slow", func(s *batchv1.JobSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](1) })
	// The pod may be gone before a poll sees it: its creation event stays.
	x.waitEvent("slow", "SuccessfulCreate")
	j := x.waitJob("slow", "Failed by deadline", func(j *batchv1.Job) bool { return conditionIs(j, batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded) })
	if !conditionIs(j, batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded) || j.Status.Active != 0 {
		x.t.Errorf("final status = %+v", j.Status)
	}
	if n := len(x.pods("slow", false)); n != 0 {
		x.t.Errorf("%d pods still active after the deadline", n)
	}
	x.waitEvent("slow", batchv1.JobReasonDeadlineExceeded)
}

func testSuspend(x *h) {
	x.job("later", func(s *batchv1.JobSpec) { s.Suspend = ptr.To(true) })
	j := x.waitJob("later", "Suspended", func(j *batchv1.Job) bool { return conditionIs(j, batchv1.JobSuspended, "JobSuspended") })
	if j.Status.StartTime != nil || len(x.pods("later", true)) != 0 {
		x.t.Fatalf("a suspended job started: %+v", j.Status)
	}
	j.Spec.Suspend = ptr.To(false)
	if _, err := x.c.BatchV1().Jobs(x.ns).Update(x.ctx, j, metav1.UpdateOptions{}); err != nil {
		x.t.Fatal(err)
	}
	p := x.waitActive("later", 1)[0]
	j = x.waitJob("later", "Resumed", func(j *batchv1.Job) bool {
		c := condition(&j.Status, batchv1.JobSuspended)
		return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "JobResumed" && j.Status.StartTime != nil
	})
	x.waitEvent("later", "Resumed")
	// Suspending again deletes the running pod without counting it.
	j.Spec.Suspend = ptr.To(true)
	if _, err := x.c.BatchV1().Jobs(x.ns).Update(x.ctx, j, metav1.UpdateOptions{}); err != nil {
		x.t.Fatal(err)
	}
	testserver.Eventually(x.t, wait, "the pod of the suspended job to go", func() (bool, error) {
		_, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, p.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	j = x.waitJob("later", "suspended again", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobSuspended, "JobSuspended") && j.Status.Active == 0
	})
	if j.Status.Failed != 0 {
		x.t.Errorf("suspending counted %d failures", j.Status.Failed)
	}
}

func testPodFailurePolicy(x *h) {
	x.job("policy", func(s *batchv1.JobSpec) {
		s.BackoffLimit = ptr.To[int32](0)
		s.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
			{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
			{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
				{Type: corev1.DisruptionTarget}}},
		}}
	})
	p := x.waitActive("policy", 1)[0]
	x.run(&p)
	// A disruption is ignored: no failure counts (backoffLimit 0 would
	// fail the Job) and the pod is replaced.
	x.setStatus(p.Name, corev1.PodFailed, 137, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"})
	q := x.waitActive("policy", 1)[0]
	if q.Name == p.Name {
		x.t.Fatal("the disrupted pod was not replaced")
	}
	testserver.Eventually(x.t, wait, "the ignored pod released", func() (bool, error) {
		got, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, p.Name, metav1.GetOptions{})
		return err == nil && !hasFinalizer(got), err
	})
	j := x.waitJob("policy", "running again", func(j *batchv1.Job) bool { return j.Status.Active == 1 })
	if j.Status.Failed != 0 || hasTrue(&j.Status, batchv1.JobFailureTarget) {
		x.t.Fatalf("the ignored failure counted: %+v", j.Status)
	}
	// Exit code 42 fails the Job at once.
	x.run(&q)
	x.setStatus(q.Name, corev1.PodFailed, 42)
	j = x.waitJob("policy", "Failed by the policy", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobFailed, batchv1.JobReasonPodFailurePolicy)
	})
	want := fmt.Sprintf("Container c for pod %s/%s failed with exit code 42 matching FailJob rule at index 0", x.ns, q.Name)
	if c := condition(&j.Status, batchv1.JobFailed); c.Message != want {
		x.t.Errorf("Failed message %q, want %q", c.Message, want)
	}
	if !conditionIs(j, batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy) || j.Status.Failed != 1 {
		x.t.Errorf("final status = %+v", j.Status)
	}
	x.noFinalizers("policy")
	x.waitEvent("policy", batchv1.JobReasonPodFailurePolicy)
}

// indexed waits for n active pods of an Indexed Job, by index.
func (x *h) indexed(job string, n int) map[string]*corev1.Pod {
	x.t.Helper()
	ps := x.waitActive(job, n)
	out := map[string]*corev1.Pod{}
	for i := range ps {
		out[ps[i].Annotations[batchv1.JobCompletionIndexAnnotation]] = &ps[i]
	}
	return out
}

func testSuccessPolicy(x *h) {
	x.job("leader", func(s *batchv1.JobSpec) {
		s.Completions, s.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		s.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		s.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
			{SucceededIndexes: ptr.To("2")}, {SucceededIndexes: ptr.To("0"), SucceededCount: ptr.To[int32](1)},
		}}
	})
	ps := x.indexed("leader", 3)
	if len(ps) != 3 || ps["0"] == nil {
		x.t.Fatalf("indexes of the pods: %v", ps)
	}
	x.run(ps["1"])
	x.run(ps["2"])
	// Index 0 alone meets the second rule: the others are stopped.
	x.end(ps["0"], corev1.PodSucceeded)
	j := x.waitJob("leader", "Complete by the policy", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobComplete, batchv1.JobReasonSuccessPolicy)
	})
	if c := condition(&j.Status, batchv1.JobSuccessCriteriaMet); c == nil || c.Reason != batchv1.JobReasonSuccessPolicy || c.Message != "Matched rules at index 1" {
		x.t.Errorf("SuccessCriteriaMet = %+v", c)
	}
	if j.Status.CompletedIndexes != "0" || j.Status.Succeeded != 1 || j.Status.Failed != 0 || j.Status.Active != 0 || j.Status.CompletionTime == nil {
		x.t.Errorf("final status = %+v", j.Status)
	}
	for _, ix := range []string{"1", "2"} {
		testserver.Eventually(x.t, wait, "the pod of index "+ix+" to go", func() (bool, error) {
			_, err := x.c.CoreV1().Pods(x.ns).Get(x.ctx, ps[ix].Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	}
}

func testBackoffLimitPerIndex(x *h) {
	x.job("retry", func(s *batchv1.JobSpec) {
		s.Completions, s.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		s.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		s.BackoffLimitPerIndex = ptr.To[int32](1)
	})
	ps := x.indexed("retry", 3)
	if len(ps) != 3 || ps["0"] == nil {
		x.t.Fatalf("indexes of the pods: %v", ps)
	}
	if v := ps["0"].Annotations[batchv1.JobIndexFailureCountAnnotation]; v != "0" {
		x.t.Errorf("first pod of index 0 has failure count %q, want 0", v)
	}
	x.end(ps["0"], corev1.PodFailed)
	// Index 0 is retried once, its pod carrying the failure.
	var retry *corev1.Pod
	testserver.Eventually(x.t, wait, "index 0 retried", func() (bool, error) {
		retry = x.indexed("retry", 3)["0"]
		return retry != nil && retry.Name != ps["0"].Name, nil
	})
	if v := retry.Annotations[batchv1.JobIndexFailureCountAnnotation]; v != "1" {
		x.t.Errorf("retry of index 0 has failure count %q, want 1", v)
	}
	x.end(retry, corev1.PodFailed)
	j := x.waitJob("retry", "index 0 failed", func(j *batchv1.Job) bool { return ptr.Deref(j.Status.FailedIndexes, "") == "0" })
	if hasTrue(&j.Status, batchv1.JobFailureTarget) {
		x.t.Fatalf("the job failed with indexes pending: %+v", j.Status)
	}
	// No third pod for index 0; the others finish and the Job fails.
	x.end(ps["1"], corev1.PodSucceeded)
	x.end(ps["2"], corev1.PodSucceeded)
	j = x.waitJob("retry", "Failed with failed indexes", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobFailed, batchv1.JobReasonFailedIndexes)
	})
	if j.Status.CompletedIndexes != "1-2" || ptr.Deref(j.Status.FailedIndexes, "") != "0" || j.Status.Failed != 2 || j.Status.Succeeded != 2 ||
		!conditionIs(j, batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes) || condition(&j.Status, batchv1.JobFailed).Message != "Job has failed indexes" {
		x.t.Errorf("final status = %+v", j.Status)
	}
	if n := len(x.pods("retry", true)); n != 4 {
		x.t.Errorf("the job made %d pods, want 4", n)
	}
	x.noFinalizers("retry")
}

func testMaxFailedIndexes(x *h) {
	x.job("strict", func(s *batchv1.JobSpec) {
		s.Completions, s.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		s.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		s.BackoffLimitPerIndex, s.MaxFailedIndexes = ptr.To[int32](3), ptr.To[int32](0)
		s.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
			{Action: batchv1.PodFailurePolicyActionFailIndex, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				ContainerName: ptr.To("c"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}},
		}}
	})
	ps := x.indexed("strict", 3)
	if len(ps) != 3 || ps["1"] == nil {
		x.t.Fatalf("indexes of the pods: %v", ps)
	}
	x.run(ps["0"])
	x.run(ps["2"])
	// FailIndex fails index 1 without retries; one failed index is over
	// maxFailedIndexes 0, so the Job fails and its other pods go.
	x.setStatus(ps["1"].Name, corev1.PodFailed, 3)
	j := x.waitJob("strict", "Failed by maxFailedIndexes", func(j *batchv1.Job) bool {
		return conditionIs(j, batchv1.JobFailed, batchv1.JobReasonMaxFailedIndexesExceeded)
	})
	if ptr.Deref(j.Status.FailedIndexes, "") != "1" || j.Status.Failed != 1 || j.Status.Active != 0 ||
		!conditionIs(j, batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded) {
		x.t.Errorf("final status = %+v", j.Status)
	}
	if n := len(x.pods("strict", false)); n != 0 {
		x.t.Errorf("%d pods still active", n)
	}
	if n := len(x.pods("strict", true)); n > 3 {
		x.t.Errorf("the job made %d pods, want 3", n)
	}
	x.waitEvent("strict", batchv1.JobReasonMaxFailedIndexesExceeded)
}
