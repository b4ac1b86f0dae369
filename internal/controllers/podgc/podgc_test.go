package podgc

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name string, phase corev1.PodPhase, age time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1e6, 0).Add(-age))},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func TestTerminatedBeyond(t *testing.T) {
	pods := []*corev1.Pod{
		pod("new-ok", corev1.PodSucceeded, time.Minute),
		pod("running", corev1.PodRunning, time.Hour),
		pod("old-failed", corev1.PodFailed, 3*time.Hour),
		pod("mid", corev1.PodSucceeded, 2*time.Hour),
		pod("tie-b", corev1.PodSucceeded, 30*time.Minute),
		pod("tie-a", corev1.PodSucceeded, 30*time.Minute),
	}
	tests := []struct {
		threshold int
		want      []string
	}{
		{0, nil},
		{10, nil},
		{5, nil},
		{4, []string{"old-failed"}},
		{2, []string{"old-failed", "mid", "tie-a"}},
		{1, []string{"old-failed", "mid", "tie-a", "tie-b"}},
	}
	for _, tc := range tests {
		got := terminatedBeyond(pods, tc.threshold)
		var names []string
		for _, p := range got {
			names = append(names, p.Name)
		}
		if len(names) != len(tc.want) {
			t.Errorf("threshold %d: %v, want %v", tc.threshold, names, tc.want)
			continue
		}
		for i := range names {
			if names[i] != tc.want[i] {
				t.Errorf("threshold %d: %v, want %v", tc.threshold, names, tc.want)
				break
			}
		}
	}
}

func TestOutOfService(t *testing.T) {
	taint := corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	notReady := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse}
	tests := []struct {
		name  string
		taint bool
		cond  corev1.NodeCondition
		want  bool
	}{
		{"tainted and not ready", true, notReady, true},
		{"tainted but ready", true, ready, false},
		{"not ready, no taint", false, notReady, false},
	}
	for _, tc := range tests {
		n := &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{tc.cond}}}
		if tc.taint {
			n.Spec.Taints = []corev1.Taint{taint}
		}
		if got := outOfService(n); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
