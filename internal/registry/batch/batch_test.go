package batch

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var ctx = context.Background()

func podTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
	}}
}

// newJob returns a job as the store hands it to the strategy on create.
func newJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: "uid-1", ResourceVersion: "1"},
		Spec:       batchv1.JobSpec{Template: podTemplate()},
	}
}

func hasError(errs field.ErrorList, typ field.ErrorType, path string) bool {
	for _, e := range errs {
		if e.Type == typ && e.Field == path {
			return true
		}
	}
	return false
}

func create(s registry.Strategy, obj runtime.Object) field.ErrorList {
	s.Default(obj)
	s.PrepareForCreate(ctx, obj)
	return s.Validate(ctx, obj)
}

func TestJobDefaults(t *testing.T) {
	cases := []struct {
		name                     string
		parallelism, completions *int32
		wantP                    int32
		wantC                    *int32
	}{
		{"neither", nil, nil, 1, int32Ptr(1)},
		{"parallelism only", int32Ptr(3), nil, 3, nil},
		{"completions only", nil, int32Ptr(5), 1, int32Ptr(5)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob()
			j.Spec.Parallelism, j.Spec.Completions = tc.parallelism, tc.completions
			JobStrategy{}.Default(j)
			s := j.Spec
			if *s.Parallelism != tc.wantP || (tc.wantC == nil) != (s.Completions == nil) || (tc.wantC != nil && *s.Completions != *tc.wantC) {
				t.Errorf("parallelism %d completions %v", *s.Parallelism, s.Completions)
			}
			if *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion || *s.Suspend ||
				*s.PodReplacementPolicy != batchv1.TerminatingOrFailed || *s.ManualSelector {
				t.Errorf("defaults: %+v", s)
			}
		})
	}
}

func TestJobGeneratedSelector(t *testing.T) {
	j := newJob()
	if errs := create(JobStrategy{}, j); len(errs) != 0 {
		t.Fatalf("valid job rejected: %v", errs)
	}
	if got := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; got != "uid-1" {
		t.Errorf("selector = %v", j.Spec.Selector)
	}
	want := map[string]string{"batch.kubernetes.io/controller-uid": "uid-1", "controller-uid": "uid-1",
		"batch.kubernetes.io/job-name": "pi", "job-name": "pi"}
	for k, v := range want {
		if j.Spec.Template.Labels[k] != v || j.Labels[k] != v {
			t.Errorf("label %s: template %q job %q", k, j.Spec.Template.Labels[k], j.Labels[k])
		}
	}
	foreign := newJob()
	foreign.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	foreign.Spec.Template.Labels = map[string]string{"app": "x", "job-name": "other"}
	errs := create(JobStrategy{}, foreign)
	if !hasError(errs, field.ErrorTypeInvalid, "spec.selector") || !hasError(errs, field.ErrorTypeInvalid, "spec.template.metadata.labels[job-name]") {
		t.Errorf("foreign selector accepted: %v", errs)
	}
	manual := newJob()
	manual.Spec.ManualSelector = boolPtr(true)
	if errs := create(JobStrategy{}, manual); !hasError(errs, field.ErrorTypeRequired, "spec.selector") {
		t.Errorf("manual selector without selector accepted: %v", errs)
	}
}

func TestJobValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*batchv1.Job)
		typ    field.ErrorType
		path   string
	}{
		{"restart always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"},
		{"negative parallelism", func(j *batchv1.Job) { j.Spec.Parallelism = int32Ptr(-1) }, field.ErrorTypeInvalid, "spec.parallelism"},
		{"negative backoff", func(j *batchv1.Job) { j.Spec.BackoffLimit = int32Ptr(-1) }, field.ErrorTypeInvalid, "spec.backoffLimit"},
		{"indexed without completions", func(j *batchv1.Job) {
			m := batchv1.IndexedCompletion
			j.Spec.CompletionMode, j.Spec.Parallelism = &m, int32Ptr(2)
		}, field.ErrorTypeRequired, "spec.completions"},
		{"bad mode", func(j *batchv1.Job) {
			m := batchv1.CompletionMode("Sometimes")
			j.Spec.CompletionMode = &m
		}, field.ErrorTypeNotSupported, "spec.completionMode"},
		{"manual selector mismatch", func(j *batchv1.Job) {
			j.Spec.ManualSelector = boolPtr(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		}, field.ErrorTypeInvalid, "spec.template.metadata.labels"},
		{"bad failure action", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: "Explode",
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: "In", Values: []int32{1}}}}}
		}, field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[0].action"},
		{"failure policy with OnFailure", func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailJob, "In", 42)
		}, field.ErrorTypeInvalid, "spec.template.spec.restartPolicy"},
		{"FailIndex without backoffLimitPerIndex", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailIndex, "In", 42)
		}, field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].action"},
		{"exit code 0 with In", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailJob, "In", 0)
		}, field.ErrorTypeInvalid, "spec.podFailurePolicy.rules[0].onExitCodes.values[0]"},
		{"duplicate exit code", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailJob, "NotIn", 1, 1)
		}, field.ErrorTypeDuplicate, "spec.podFailurePolicy.rules[0].onExitCodes.values[1]"},
		{"bad exit code operator", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailJob, "Near", 1)
		}, field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[0].onExitCodes.operator"},
		{"bad pod condition status", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: "Maybe"}}}}}
		}, field.ErrorTypeNotSupported, "spec.podFailurePolicy.rules[0].onPodConditions[0].status"},
		{"success policy on a NonIndexed job", func(j *batchv1.Job) {
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededCount: int32Ptr(1)}}}
		}, field.ErrorTypeInvalid, "spec.successPolicy"},
		{"empty success rule", func(j *batchv1.Job) {
			indexed(j, 4)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{}}}
		}, field.ErrorTypeRequired, "spec.successPolicy.rules[0]"},
		{"success index out of range", func(j *batchv1.Job) {
			indexed(j, 4)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: strPtr("1,3-4")}}}
		}, field.ErrorTypeInvalid, "spec.successPolicy.rules[0].succeededIndexes"},
		{"success indexes out of order", func(j *batchv1.Job) {
			indexed(j, 4)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: strPtr("2,0")}}}
		}, field.ErrorTypeInvalid, "spec.successPolicy.rules[0].succeededIndexes"},
		{"success count over the indexes", func(j *batchv1.Job) {
			indexed(j, 4)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: strPtr("0-1"), SucceededCount: int32Ptr(3)}}}
		}, field.ErrorTypeInvalid, "spec.successPolicy.rules[0].succeededCount"},
		{"success count not positive", func(j *batchv1.Job) {
			indexed(j, 4)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededCount: int32Ptr(0)}}}
		}, field.ErrorTypeInvalid, "spec.successPolicy.rules[0].succeededCount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJob()
			tc.mutate(j)
			if errs := create(JobStrategy{}, j); !hasError(errs, tc.typ, tc.path) {
				t.Errorf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func exitCodePolicy(a batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, codes ...int32) *batchv1.PodFailurePolicy {
	return &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: a,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}}}}
}

func indexed(j *batchv1.Job, completions int32) {
	m := batchv1.IndexedCompletion
	j.Spec.CompletionMode, j.Spec.Completions = &m, int32Ptr(completions)
}

func strPtr(s string) *string { return &s }

// TestJobPoliciesAccepted checks that valid failure, success and per-index
// policies pass.
func TestJobPoliciesAccepted(t *testing.T) {
	j := newJob()
	indexed(j, 4)
	j.Spec.BackoffLimitPerIndex, j.Spec.MaxFailedIndexes = int32Ptr(1), int32Ptr(2)
	j.Spec.PodFailurePolicy = exitCodePolicy(batchv1.PodFailurePolicyActionFailIndex, "In", 3)
	j.Spec.PodFailurePolicy.Rules = append(j.Spec.PodFailurePolicy.Rules, batchv1.PodFailurePolicyRule{Action: batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}})
	j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
		{SucceededIndexes: strPtr("0,2-3")}, {SucceededIndexes: strPtr("1-3"), SucceededCount: int32Ptr(3)}, {SucceededCount: int32Ptr(4)}}}
	if errs := create(JobStrategy{}, j); len(errs) != 0 {
		t.Errorf("valid policies rejected: %v", errs)
	}
}

func TestJobRestartPolicyMessage(t *testing.T) {
	j := newJob()
	j.Spec.Template.Spec.RestartPolicy = ""
	want := `spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`
	for _, e := range create(JobStrategy{}, j) {
		if e.Error() == want {
			return
		}
	}
	t.Errorf("no error reads %q", want)
}

func TestJobUpdate(t *testing.T) {
	old := newJob()
	if errs := create(JobStrategy{}, old); len(errs) != 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		name   string
		mutate func(*batchv1.Job)
		path   string
	}{
		{"parallelism is mutable", func(j *batchv1.Job) { j.Spec.Parallelism = int32Ptr(4) }, ""},
		{"suspend is mutable", func(j *batchv1.Job) { j.Spec.Suspend = boolPtr(true) }, ""},
		{"suspended job may move", func(j *batchv1.Job) {
			j.Spec.Suspend = boolPtr(true)
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, ""},
		{"image is immutable", func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "x" }, "spec.template"},
		{"completions immutable", func(j *batchv1.Job) { j.Spec.Completions = int32Ptr(3) }, "spec.completions"},
		{"selector immutable", func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["x"] = "y"; j.Spec.Template.Labels["x"] = "y" }, "spec.selector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := old.DeepCopy()
			tc.mutate(j)
			JobStrategy{}.Default(j)
			errs := JobStrategy{}.ValidateUpdate(ctx, j, old)
			if tc.path == "" && len(errs) != 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
			if tc.path != "" && !hasError(errs, field.ErrorTypeInvalid, tc.path) {
				t.Errorf("want immutable %s, got %v", tc.path, errs)
			}
		})
	}
}

func TestJobFields(t *testing.T) {
	j := newJob()
	j.Status.Succeeded = 2
	if got := jobResource().Fields(j)["status.successful"]; got != "2" {
		t.Errorf("status.successful = %q", got)
	}
}

func newCronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default", ResourceVersion: "1"},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate()}}},
	}
}

func TestCronJobDefaults(t *testing.T) {
	c := newCronJob()
	CronJobStrategy{}.Default(c)
	s := c.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaults: %+v", s)
	}
	if s.JobTemplate.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("pod template not defaulted")
	}
	if s.JobTemplate.Spec.BackoffLimit != nil {
		t.Errorf("job defaults applied inside the template")
	}
}

func TestCronJobValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*batchv1.CronJob) {}, "", ""},
		{"descriptor", func(c *batchv1.CronJob) { c.Spec.Schedule = "@daily" }, "", ""},
		{"time zone", func(c *batchv1.CronJob) { tz := "Europe/Paris"; c.Spec.TimeZone = &tz }, "", ""},
		{"no schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, field.ErrorTypeRequired, "spec.schedule"},
		{"bad schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "61 * * * *" }, field.ErrorTypeInvalid, "spec.schedule"},
		{"TZ in schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" }, field.ErrorTypeInvalid, "spec.schedule"},
		{"bad time zone", func(c *batchv1.CronJob) { tz := "Mars/Olympus"; c.Spec.TimeZone = &tz }, field.ErrorTypeInvalid, "spec.timeZone"},
		{"local time zone", func(c *batchv1.CronJob) { tz := "Local"; c.Spec.TimeZone = &tz }, field.ErrorTypeInvalid, "spec.timeZone"},
		{"bad policy", func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Sometimes" }, field.ErrorTypeNotSupported, "spec.concurrencyPolicy"},
		{"long name", func(c *batchv1.CronJob) { c.Name = "a123456789012345678901234567890123456789012345678901234" }, field.ErrorTypeInvalid, "metadata.name"},
		{"restart always", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		},
			field.ErrorTypeNotSupported, "spec.jobTemplate.spec.template.spec.restartPolicy"},
		{"negative history", func(c *batchv1.CronJob) { c.Spec.FailedJobsHistoryLimit = int32Ptr(-1) },
			field.ErrorTypeInvalid, "spec.failedJobsHistoryLimit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCronJob()
			tc.mutate(c)
			errs := create(CronJobStrategy{}, c)
			if tc.path == "" && len(errs) != 0 {
				t.Errorf("unexpected errors: %v", errs)
			}
			if tc.path != "" && !hasError(errs, tc.typ, tc.path) {
				t.Errorf("want %s at %s, got %v", tc.typ, tc.path, errs)
			}
		})
	}
}

func TestResources(t *testing.T) {
	rs := Resources()
	if len(rs) != 2 || rs[0].Resource != "jobs" || rs[1].Resource != "cronjobs" || rs[1].ShortNames[0] != "cj" ||
		!rs[0].HasStatus || !rs[1].HasStatus || rs[0].Categories[0] != "all" || len(rs[0].ShortNames) != 0 {
		t.Errorf("unexpected resources: %+v %+v", rs[0], rs[1])
	}
}
