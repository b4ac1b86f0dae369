package node

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConditions(t *testing.T) {
	ready := true
	n := &Node{cfg: Config{Readiness: func() Readiness {
		if ready {
			return Readiness{Ready: true}
		}
		return Readiness{Message: "network not ready"}
	}}}
	first := n.conditions(nil)
	var readyCond corev1.NodeCondition
	for _, c := range first {
		if c.Type == corev1.NodeReady {
			readyCond = c
		}
	}
	if readyCond.Status != corev1.ConditionTrue || readyCond.Reason != "KubeletReady" || len(first) != 4 {
		t.Fatalf("conditions %+v", first)
	}
	old := metav1.NewTime(time.Now().Add(-time.Hour))
	prev := &corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: old}}}
	for _, c := range n.conditions(prev) {
		if c.Type == corev1.NodeReady && !c.LastTransitionTime.Equal(&old) {
			t.Errorf("transition time moved without a transition")
		}
	}
	ready = false
	for _, c := range n.conditions(prev) {
		if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionFalse || c.Reason != "KubeletNotReady" || c.Message != "network not ready" || c.LastTransitionTime.Equal(&old)) {
			t.Errorf("not ready: %+v", c)
		}
	}
	a := &corev1.NodeStatus{Conditions: first}
	b := a.DeepCopy()
	b.Conditions[0].LastHeartbeatTime = metav1.NewTime(time.Now().Add(time.Minute))
	if !sameStatus(a, b) {
		t.Error("a heartbeat alone counted as a change")
	}
	b.Conditions[0].Status = corev1.ConditionUnknown
	if sameStatus(a, b) {
		t.Error("a condition change went unnoticed")
	}
}

func TestResources(t *testing.T) {
	res := readMachine(t.TempDir()).resources(110)
	if res.Cpu().Value() < 1 || res.Memory().Value() <= 0 || res.Pods().Value() != 110 || res.StorageEphemeral().Value() <= 0 {
		t.Errorf("capacity %v", res)
	}
}
