package job

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestIndexSet(t *testing.T) {
	cases := []struct {
		in          string
		completions int
		want        string
	}{
		{"", 5, ""},
		{"0", 5, "0"},
		{"0,1", 5, "0-1"},
		{"3,0-1,2", 5, "0-3"},
		{"1,3-5,7", 10, "1,3-5,7"},
		{"1,3-5,7", 5, "1,3-4"},
		{"x,2,4-y", 5, "2"},
	}
	for _, c := range cases {
		if got := parseIndexes(c.in, c.completions).String(); got != c.want {
			t.Errorf("parseIndexes(%q, %d) = %q, want %q", c.in, c.completions, got, c.want)
		}
	}
}

func indexedPod(i string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p" + i, Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: i}}}
}

func TestIndexes(t *testing.T) {
	active := []*corev1.Pod{indexedPod("1"), indexedPod("1"), indexedPod("3"), indexedPod("9"), indexedPod("x")}
	done := indexSet{0: true, 3: true}
	if got := missingIndexes(done, active, 6, 10); len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 5 {
		t.Errorf("missingIndexes = %v, want [2 4 5]", got)
	}
	if got := missingIndexes(done, active, 6, 1); len(got) != 1 || got[0] != 2 {
		t.Errorf("missingIndexes(n=1) = %v, want [2]", got)
	}
	var names []string
	for _, p := range redundantIndexed(done, active, 6) {
		names = append(names, p.Name+"/"+strconv.Itoa(podIndex(p, 6)))
	}
	// The second pod of index 1, the pod of done index 3, and the two without a valid index.
	if len(names) != 4 || names[0] != "p1/1" || names[1] != "p3/3" || names[2] != "p9/-1" || names[3] != "px/-1" {
		t.Errorf("redundantIndexed = %v", names)
	}
}

func TestNewPodIndexed(t *testing.T) {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "work", Namespace: "ns", UID: "u"},
		Spec: batchv1.JobSpec{Completions: ptr.To[int32](3), CompletionMode: ptr.To(batchv1.IndexedCompletion),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}, InitContainers: []corev1.Container{{Name: "i"}}}}}}
	p := newPod(j, 2)
	if p.GenerateName != "work-2-" || p.Spec.Hostname != "work-2" || p.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "2" || p.Labels["a"] != "b" {
		t.Errorf("indexed pod = %+v", p.ObjectMeta)
	}
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef == nil {
			t.Errorf("container %s env = %+v", c.Name, c.Env)
		}
	}
	if len(p.Finalizers) != 1 || p.Finalizers[0] != batchv1.JobTrackingFinalizer {
		t.Errorf("finalizers = %v", p.Finalizers)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != "u" || ref.Kind != "Job" {
		t.Errorf("owner = %+v", p.OwnerReferences)
	}
	if len(j.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Error("newPod changed the Job's template")
	}
	long := hostname("a-very-long-job-name-that-goes-on-and-on-and-on-until-it-is-too.long", "12")
	if len(long) > 63 || long[len(long)-3:] != "-12" {
		t.Errorf("hostname = %q (%d)", long, len(long))
	}
}

func TestBackoffLimitPerIndex(t *testing.T) {
	ignoreDisruption := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
	}}}
	j := &batchv1.Job{Spec: batchv1.JobSpec{BackoffLimitPerIndex: ptr.To[int32](1), PodFailurePolicy: ignoreDisruption,
		PodReplacementPolicy: ptr.To(batchv1.Failed)}}
	mk := func(index, failures, ignored string, phase corev1.PodPhase, disrupted bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: index}},
			Status: corev1.PodStatus{Phase: phase}}
		if failures != "" {
			p.Annotations[batchv1.JobIndexFailureCountAnnotation] = failures
		}
		if ignored != "" {
			p.Annotations[batchv1.JobIndexIgnoredFailureCountAnnotation] = ignored
		}
		if disrupted {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
		}
		return p
	}
	fails := []struct {
		name   string
		pod    *corev1.Pod
		action batchv1.PodFailurePolicyAction
		want   bool
	}{
		{"first failure is retried", mk("0", "0", "", corev1.PodFailed, false), "", false},
		{"no annotation is a first failure", mk("0", "", "", corev1.PodFailed, false), batchv1.PodFailurePolicyActionCount, false},
		{"second failure exceeds 1", mk("0", "1", "", corev1.PodFailed, false), "", true},
		{"FailIndex fails at once", mk("0", "0", "", corev1.PodFailed, false), batchv1.PodFailurePolicyActionFailIndex, true},
		{"Ignore never fails", mk("0", "5", "", corev1.PodFailed, true), batchv1.PodFailurePolicyActionIgnore, false},
		{"malformed count reads 0", mk("0", "x", "", corev1.PodFailed, false), "", false},
	}
	for _, c := range fails {
		if got := failsIndex(j, c.pod, c.action); got != c.want {
			t.Errorf("failsIndex %s = %v, want %v", c.name, got, c.want)
		}
	}
	counts := []struct {
		name            string
		pods            []*corev1.Pod
		failed, ignored map[int]int
	}{
		{"none", nil, map[int]int{}, map[int]int{}},
		{"a counted failure", []*corev1.Pod{mk("1", "0", "", corev1.PodFailed, false)}, map[int]int{1: 1}, map[int]int{1: 0}},
		{"the latest failure wins", []*corev1.Pod{mk("1", "0", "", corev1.PodFailed, false), mk("1", "1", "", corev1.PodFailed, false)}, map[int]int{1: 2}, map[int]int{1: 0}},
		{"an ignored failure keeps the count", []*corev1.Pod{mk("2", "1", "", corev1.PodFailed, true)}, map[int]int{2: 1}, map[int]int{2: 1}},
		{"running and succeeded pods do not count", []*corev1.Pod{mk("0", "3", "", corev1.PodRunning, false), mk("1", "2", "", corev1.PodSucceeded, false)}, map[int]int{}, map[int]int{}},
		{"out of range index", []*corev1.Pod{mk("9", "0", "", corev1.PodFailed, false)}, map[int]int{}, map[int]int{}},
	}
	for _, c := range counts {
		f, ig := indexFailureCounts(j, c.pods, 3)
		if !maps.Equal(f, c.failed) || !maps.Equal(ig, c.ignored) {
			t.Errorf("indexFailureCounts %s = %v, %v; want %v, %v", c.name, f, ig, c.failed, c.ignored)
		}
	}
}

func TestDecide(t *testing.T) {
	indexed := func(mutate func(*batchv1.JobSpec)) *batchv1.Job {
		j := &batchv1.Job{Spec: batchv1.JobSpec{Completions: ptr.To[int32](4), Parallelism: ptr.To[int32](4),
			CompletionMode: ptr.To(batchv1.IndexedCompletion), BackoffLimit: ptr.To[int32](6)}}
		mutate(&j.Spec)
		return j
	}
	perIndex := func(max int32) func(*batchv1.JobSpec) {
		return func(s *batchv1.JobSpec) {
			s.BackoffLimitPerIndex, s.BackoffLimit = ptr.To[int32](1), ptr.To[int32](1<<31-1)
			if max >= 0 {
				s.MaxFailedIndexes = ptr.To(max)
			}
		}
	}
	successIdx := func(ix string) func(*batchv1.JobSpec) {
		return func(s *batchv1.JobSpec) {
			s.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To(ix)}}}
		}
	}
	cases := []struct {
		name      string
		job       *batchv1.Job
		done      string
		failedIdx *string
		failed    int32
		failJob   string
		cond      batchv1.JobConditionType
		reason    string
		msg       string
	}{
		{"running", indexed(func(*batchv1.JobSpec) {}), "0", nil, 0, "", "", "", ""},
		{"FailJob comes first", indexed(successIdx("0")), "0", nil, 7, "boom", batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy, "boom"},
		{"backoff limit before the success policy", indexed(successIdx("0")), "0", nil, 7, "", batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit},
		{"success policy", indexed(successIdx("1-2")), "1-2", nil, 0, "", batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, "Matched rules at index 0"},
		{"success policy not met", indexed(successIdx("1-2")), "1", nil, 0, "", "", "", ""},
		{"all indexes succeeded", indexed(func(*batchv1.JobSpec) {}), "0-3", nil, 0, "", batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions},
		{"failed index, others pending", indexed(perIndex(-1)), "1", ptr.To("0"), 2, "", "", "", ""},
		{"failed index, all done", indexed(perIndex(-1)), "1-3", ptr.To("0"), 2, "", batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes, msgFailedIndexes},
		{"max failed indexes not exceeded", indexed(perIndex(1)), "", ptr.To("0"), 2, "", "", "", ""},
		{"max failed indexes exceeded", indexed(perIndex(1)), "", ptr.To("0,2"), 4, "", batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes},
		{"max failed indexes before the success policy", func() *batchv1.Job {
			j := indexed(perIndex(0))
			successIdx("1")(&j.Spec)
			return j
		}(), "1", ptr.To("0"), 2, "", batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes},
	}
	for _, c := range cases {
		j := c.job.DeepCopy()
		j.Status.CompletedIndexes, j.Status.FailedIndexes = c.done, c.failedIdx
		s := &state{job: j, now: t0, failed: c.failed, failJob: c.failJob, done: parseIndexes(c.done, 4)}
		if j.Spec.BackoffLimitPerIndex != nil {
			s.failedIdx = parseIndexes(ptr.Deref(c.failedIdx, ""), 4)
		}
		s.succeeded = int32(len(s.done))
		(&Controller{}).decide(s)
		var got *batchv1.JobCondition
		for i := range j.Status.Conditions {
			got = &j.Status.Conditions[i]
		}
		switch {
		case c.cond == "" && got != nil:
			t.Errorf("%s: got condition %+v, want none", c.name, *got)
		case c.cond != "" && (got == nil || got.Type != c.cond || got.Reason != c.reason || got.Message != c.msg || len(j.Status.Conditions) != 1):
			t.Errorf("%s: got conditions %+v, want %s %s %q", c.name, j.Status.Conditions, c.cond, c.reason, c.msg)
		}
	}
}

func TestReadyIndexes(t *testing.T) {
	b := Backoff{Base: 10 * time.Second, Max: 6 * time.Minute}
	j := &batchv1.Job{Spec: batchv1.JobSpec{BackoffLimitPerIndex: ptr.To[int32](3)}}
	at := func(index string, phase corev1.PodPhase, finished time.Time) *corev1.Pod {
		p := pod(phase, finished)
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: index}
		return p
	}
	cases := []struct {
		name    string
		pods    []*corev1.Pod
		missing []int
		ready   []int
		wait    time.Duration
	}{
		{"fresh indexes", nil, []int{0, 1}, []int{0, 1}, 0},
		{"only the failed index waits", []*corev1.Pod{at("1", corev1.PodFailed, t0.Add(-4*time.Second))}, []int{0, 1, 2}, []int{0, 2}, 6 * time.Second},
		{"failures of other indexes do not add up", []*corev1.Pod{
			at("0", corev1.PodFailed, t0.Add(-12*time.Second)), at("1", corev1.PodFailed, t0.Add(-11*time.Second)),
		}, []int{0, 1}, []int{0, 1}, 0},
		{"an index's failures double its delay", []*corev1.Pod{
			at("0", corev1.PodFailed, t0.Add(-30*time.Second)), at("0", corev1.PodFailed, t0.Add(-12*time.Second)),
			at("1", corev1.PodFailed, t0.Add(-5*time.Second)),
		}, []int{0, 1}, nil, 5 * time.Second},
	}
	for _, c := range cases {
		ready, wait := b.readyIndexes(j, c.pods, c.missing, 3, t0)
		if !slices.Equal(ready, c.ready) || wait != c.wait {
			t.Errorf("%s: readyIndexes = %v, %v; want %v, %v", c.name, ready, wait, c.ready, c.wait)
		}
	}
}
