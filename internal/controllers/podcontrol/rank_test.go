package podcontrol

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0)}}
	p.Spec.NodeName = "node-a"
	p.Status.Phase = corev1.PodRunning
	ready(t0)(p)
	for _, o := range opts {
		o(p)
	}
	return p
}

func unscheduled(p *corev1.Pod)       { p.Spec.NodeName = "" }
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func notReady(p *corev1.Pod)          { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func created(at time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}
func restarts(n int32) podOpt {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: n}} }
}
func cost(c string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{DeletionCostAnnotation: c} }
}
func ready(at time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	}
}

func TestLessValuable(t *testing.T) {
	later := t0.Add(time.Minute)
	tests := []struct {
		name         string
		a, b         *corev1.Pod
		rankA, rankB int
		want         bool
	}{
		{"unscheduled before scheduled", pod("a", unscheduled), pod("b"), 0, 0, true},
		{"scheduled after unscheduled", pod("a"), pod("b", unscheduled), 0, 0, false},
		{"pending before unknown", pod("a", phase(corev1.PodPending)), pod("b", phase(corev1.PodUnknown)), 0, 0, true},
		{"unknown before running", pod("a", phase(corev1.PodUnknown)), pod("b"), 0, 0, true},
		{"running after pending", pod("a"), pod("b", phase(corev1.PodPending)), 0, 0, false},
		{"not ready before ready", pod("a", notReady), pod("b"), 0, 0, true},
		{"phase beats readiness", pod("a", phase(corev1.PodPending)), pod("b", notReady), 0, 0, true},
		{"lower deletion cost first", pod("a", cost("-5")), pod("b"), 0, 0, true},
		{"higher deletion cost last", pod("a", cost("10")), pod("b", cost("2")), 0, 0, false},
		{"invalid cost is zero", pod("a", cost("x")), pod("b", cost("1")), 0, 0, true},
		{"doubled up first", pod("a"), pod("b"), 2, 1, true},
		{"readiness beats rank", pod("a"), pod("b", notReady), 5, 1, false},
		{"ready for less time first", pod("a", ready(later)), pod("b", ready(t0)), 0, 0, true},
		{"ready longer last", pod("a", ready(t0)), pod("b", ready(later)), 0, 0, false},
		{"unknown ready time first", pod("a", ready(time.Time{})), pod("b", ready(t0)), 0, 0, true},
		{"more restarts first", pod("a", restarts(3)), pod("b", restarts(1)), 0, 0, true},
		{"newer first", pod("a", created(later)), pod("b"), 0, 0, true},
		{"older last", pod("a"), pod("b", created(later)), 0, 0, false},
		{"ready time beats restarts", pod("a", ready(later)), pod("b", restarts(9)), 0, 0, true},
		{"restarts beat age", pod("a", restarts(1)), pod("b", created(later)), 0, 0, true},
		{"equal pods", pod("a"), pod("b"), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LessValuable(tt.a, tt.b, tt.rankA, tt.rankB); got != tt.want {
				t.Errorf("LessValuable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSortForDeletion(t *testing.T) {
	pods := []*corev1.Pod{
		pod("old-ready"),
		pod("new-ready", created(t0.Add(time.Hour))),
		pod("not-ready", notReady),
		pod("pending", phase(corev1.PodPending)),
		pod("unscheduled", unscheduled, phase(corev1.PodPending)),
	}
	ranks := []int{0, 0, 0, 0, 7}
	SortForDeletion(pods, ranks)
	want := []string{"unscheduled", "pending", "not-ready", "new-ready", "old-ready"}
	for i, p := range pods {
		if p.Name != want[i] {
			t.Fatalf("order = %v, want %v", names(pods), want)
		}
	}
	if ranks[0] != 7 {
		t.Errorf("ranks were not moved with their pods: %v", ranks)
	}
}

func TestRanksByNode(t *testing.T) {
	on := func(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
	mine := []*corev1.Pod{pod("a", on("n1")), pod("b", on("n2")), pod("c", unscheduled)}
	related := append([]*corev1.Pod{pod("x", on("n1")), pod("y", on("n1"))}, mine...)
	got := RanksByNode(mine, related)
	if fmt.Sprint(got) != "[3 1 0]" {
		t.Errorf("RanksByNode = %v, want [3 1 0]", got)
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
