package job

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// failedPod is a Failed pod default/x whose containers exited with codes.
func failedPod(codes map[string]int32, conds ...corev1.PodCondition) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "x"}, Status: corev1.PodStatus{Phase: corev1.PodFailed, Conditions: conds}}
	for _, name := range []string{"init", "main", "side"} {
		code, ok := codes[name]
		if !ok {
			continue
		}
		cs := corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
		if name == "init" {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs)
		} else {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs)
		}
	}
	return p
}

func TestMatchFailurePolicy(t *testing.T) {
	onCodes := func(a batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, container string, codes ...int32) batchv1.PodFailurePolicyRule {
		r := batchv1.PodFailurePolicyRule{Action: a, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}}
		if container != "" {
			r.OnExitCodes.ContainerName = ptr.To(container)
		}
		return r
	}
	onCond := func(a batchv1.PodFailurePolicyAction, t corev1.PodConditionType, st corev1.ConditionStatus) batchv1.PodFailurePolicyRule {
		return batchv1.PodFailurePolicyRule{Action: a, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: t, Status: st}}}
	}
	disrupted := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}
	const (
		in, notIn = batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn
		failJob   = batchv1.PodFailurePolicyActionFailJob
		ignore    = batchv1.PodFailurePolicyActionIgnore
		count     = batchv1.PodFailurePolicyActionCount
		failIndex = batchv1.PodFailurePolicyActionFailIndex
	)
	cases := []struct {
		name   string
		rules  []batchv1.PodFailurePolicyRule
		pod    *corev1.Pod
		action batchv1.PodFailurePolicyAction
		msg    string
		ok     bool
	}{
		{"exit code In", []batchv1.PodFailurePolicyRule{onCodes(failJob, in, "", 42)}, failedPod(map[string]int32{"main": 42}),
			failJob, "Container main for pod default/x failed with exit code 42 matching FailJob rule at index 0", true},
		{"exit code not listed", []batchv1.PodFailurePolicyRule{onCodes(failJob, in, "", 42)}, failedPod(map[string]int32{"main": 1}), "", "", false},
		{"NotIn matches other codes", []batchv1.PodFailurePolicyRule{onCodes(count, notIn, "", 1, 2)}, failedPod(map[string]int32{"main": 3}),
			count, "Container main for pod default/x failed with exit code 3 matching Count rule at index 0", true},
		{"NotIn skips succeeded containers", []batchv1.PodFailurePolicyRule{onCodes(failJob, notIn, "", 1)}, failedPod(map[string]int32{"main": 1, "side": 0}), "", "", false},
		{"container name restricts", []batchv1.PodFailurePolicyRule{onCodes(failJob, in, "side", 42)}, failedPod(map[string]int32{"main": 42, "side": 1}), "", "", false},
		{"container name matches", []batchv1.PodFailurePolicyRule{onCodes(failJob, in, "side", 42)}, failedPod(map[string]int32{"main": 1, "side": 42}),
			failJob, "Container side for pod default/x failed with exit code 42 matching FailJob rule at index 0", true},
		{"init containers are judged too", []batchv1.PodFailurePolicyRule{onCodes(failIndex, in, "", 5)}, failedPod(map[string]int32{"init": 5}),
			failIndex, "Container init for pod default/x failed with exit code 5 matching FailIndex rule at index 0", true},
		{"first matching rule wins", []batchv1.PodFailurePolicyRule{onCodes(failJob, in, "", 7), onCond(ignore, corev1.DisruptionTarget, ""), onCodes(failJob, in, "", 42)},
			failedPod(map[string]int32{"main": 42}, disrupted),
			ignore, "Pod default/x has condition DisruptionTarget matching Ignore rule at index 1", true},
		{"condition with another status", []batchv1.PodFailurePolicyRule{onCond(ignore, corev1.DisruptionTarget, corev1.ConditionFalse)},
			failedPod(map[string]int32{"main": 1}, disrupted), "", "", false},
		{"pod not yet Failed", []batchv1.PodFailurePolicyRule{onCond(ignore, corev1.DisruptionTarget, "")},
			func() *corev1.Pod { p := failedPod(nil, disrupted); p.Status.Phase = corev1.PodRunning; return p }(), "", "", false},
	}
	for _, c := range cases {
		a, msg, ok := matchFailurePolicy(&batchv1.PodFailurePolicy{Rules: c.rules}, c.pod)
		if a != c.action || msg != c.msg || ok != c.ok {
			t.Errorf("%s: got (%q, %q, %v), want (%q, %q, %v)", c.name, a, msg, ok, c.action, c.msg, c.ok)
		}
	}
	if _, _, ok := matchFailurePolicy(nil, failedPod(map[string]int32{"main": 42})); ok {
		t.Error("no policy matched a rule")
	}
}

func TestSuccessPolicyMet(t *testing.T) {
	rule := func(indexes string, count int32) batchv1.SuccessPolicyRule {
		var r batchv1.SuccessPolicyRule
		if indexes != "" {
			r.SucceededIndexes = ptr.To(indexes)
		}
		if count > 0 {
			r.SucceededCount = ptr.To(count)
		}
		return r
	}
	cases := []struct {
		name  string
		rules []batchv1.SuccessPolicyRule
		done  string
		want  int
		met   bool
	}{
		{"indexes all succeeded", []batchv1.SuccessPolicyRule{rule("0,2", 0)}, "0-2", 0, true},
		{"indexes partly succeeded", []batchv1.SuccessPolicyRule{rule("0,2", 0)}, "0,1", 0, false},
		{"count alone", []batchv1.SuccessPolicyRule{rule("", 2)}, "1,4", 0, true},
		{"count alone short", []batchv1.SuccessPolicyRule{rule("", 3)}, "1,4", 0, false},
		// The documented example: only 1 and 3 of 1-4 count.
		{"count within indexes", []batchv1.SuccessPolicyRule{rule("1-4", 3)}, "1,3,5", 0, false},
		{"count within indexes met", []batchv1.SuccessPolicyRule{rule("1-4", 2)}, "1,3,5", 0, true},
		{"second rule", []batchv1.SuccessPolicyRule{rule("5", 0), rule("", 1)}, "0", 1, true},
		{"nothing succeeded", []batchv1.SuccessPolicyRule{rule("0", 0)}, "", 0, false},
	}
	for _, c := range cases {
		i, met := successPolicyMet(&batchv1.SuccessPolicy{Rules: c.rules}, parseIndexes(c.done, 6), 6)
		if i != c.want || met != c.met {
			t.Errorf("%s: got (%d, %v), want (%d, %v)", c.name, i, met, c.want, c.met)
		}
	}
	if _, met := successPolicyMet(nil, parseIndexes("0-5", 6), 6); met {
		t.Error("no policy was met")
	}
}
