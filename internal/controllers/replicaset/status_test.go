package replicaset

import (
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func statusPod(lbl map[string]string, readySince time.Duration) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: lbl}}
	if readySince >= 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now.Add(-readySince))}}
	}
	return p
}

func TestCalculateStatus(t *testing.T) {
	full := map[string]string{"app": "web", "tier": "fe"}
	partial := map[string]string{"app": "web"}
	rs := func(minReady int32) *appsv1.ReplicaSet {
		n := int32(3)
		r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Generation: 7},
			Spec: appsv1.ReplicaSetSpec{Replicas: &n, MinReadySeconds: minReady}}
		r.Spec.Template.Labels = full
		return r
	}
	tests := []struct {
		name                          string
		rs                            *appsv1.ReplicaSet
		pods                          []*corev1.Pod
		replicas, fully, ready, avail int32
	}{
		{"none", rs(0), nil, 0, 0, 0, 0},
		{"all ready", rs(0), []*corev1.Pod{statusPod(full, 0), statusPod(full, time.Second)}, 2, 2, 2, 2},
		{"partly labelled", rs(0), []*corev1.Pod{statusPod(partial, 0), statusPod(full, -1)}, 2, 1, 1, 1},
		{"min ready seconds", rs(10), []*corev1.Pod{statusPod(full, 5*time.Second), statusPod(full, 11*time.Second), statusPod(full, -1)}, 3, 3, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := calculateStatus(tt.rs, tt.pods, nil, now)
			if st.Replicas != tt.replicas || st.FullyLabeledReplicas != tt.fully || st.ReadyReplicas != tt.ready || st.AvailableReplicas != tt.avail {
				t.Errorf("status %+v, want replicas %d fully %d ready %d available %d", st, tt.replicas, tt.fully, tt.ready, tt.avail)
			}
			if st.ObservedGeneration != 7 {
				t.Errorf("observedGeneration %d, want 7", st.ObservedGeneration)
			}
		})
	}
}

func TestFailureCondition(t *testing.T) {
	failed := []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: ReasonFailedCreate, Message: "old"}}
	boom := errors.New("pods \"x\" is forbidden: exceeded quota")
	tests := []struct {
		name       string
		conds      []appsv1.ReplicaSetCondition
		diff       int
		err        error
		wantReason string // "" = no condition
		wantMsg    string
	}{
		{"healthy stays healthy", nil, 0, nil, "", ""},
		{"create failure sets it", nil, -2, boom, ReasonFailedCreate, boom.Error()},
		{"delete failure sets it", nil, 2, boom, ReasonFailedDelete, boom.Error()},
		{"existing condition is kept", failed, -2, boom, ReasonFailedCreate, "old"},
		{"success clears it", failed, 0, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureCondition(append([]appsv1.ReplicaSetCondition(nil), tt.conds...), tt.diff, tt.err, now)
			i := conditionIndex(got, appsv1.ReplicaSetReplicaFailure)
			switch {
			case tt.wantReason == "" && i >= 0:
				t.Errorf("condition %+v, want none", got[i])
			case tt.wantReason != "" && (i < 0 || got[i].Reason != tt.wantReason || got[i].Message != tt.wantMsg || got[i].Status != corev1.ConditionTrue):
				t.Errorf("conditions %+v, want ReplicaFailure %s %q", got, tt.wantReason, tt.wantMsg)
			}
		})
	}
}

func TestRCConversion(t *testing.T) {
	n := int32(4)
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "rc", UID: "u"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &n, MinReadySeconds: 3, Selector: map[string]string{"a": "b"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}}},
		Status: corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: 3,
			Conditions: []corev1.ReplicationControllerCondition{{Type: "ReplicaFailure", Status: "True", Reason: "FailedCreate"}}},
	}
	rs := rcToRS(rc)
	if *rs.Spec.Replicas != 4 || rs.Spec.MinReadySeconds != 3 || rs.Spec.Selector.MatchLabels["a"] != "b" || rs.Spec.Template.Labels["a"] != "b" || rs.UID != "u" {
		t.Errorf("spec not converted: %+v", rs.Spec)
	}
	if back := rsStatusToRC(rs.Status); !equality.Semantic.DeepEqual(back, rc.Status) {
		t.Errorf("status round trip: %+v, want %+v", back, rc.Status)
	}
}
