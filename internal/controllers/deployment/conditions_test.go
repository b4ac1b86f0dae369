package deployment

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func progressingCond(reason string, status corev1.ConditionStatus, updated time.Time) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: status, Reason: reason,
		LastUpdateTime: metav1.NewTime(updated), LastTransitionTime: metav1.NewTime(t0)}
}

func TestProgressCondition(t *testing.T) {
	now := t0.Add(time.Hour)
	st := func(replicas, updated, ready, avail int32, conds ...appsv1.DeploymentCondition) appsv1.DeploymentStatus {
		return appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, UpdatedReplicas: updated,
			ReadyReplicas: ready, AvailableReplicas: avail, Conditions: conds}
	}
	tests := []struct {
		name       string
		old, new   appsv1.DeploymentStatus
		deadline   *int32
		wantReason string // "" = no Progressing condition
		wantStatus corev1.ConditionStatus
		wantUpdate time.Time
	}{
		{"complete", st(3, 2, 2, 2), st(3, 3, 3, 3, progressingCond(ReasonRSUpdated, "True", t0)),
			ptr(int32(600)), ReasonNewRSAvailable, "True", now},
		{"progress refreshes the update time", st(4, 1, 3, 3), st(4, 2, 3, 3, progressingCond(ReasonRSUpdated, "True", t0)),
			ptr(int32(600)), ReasonRSUpdated, "True", now},
		{"no progress within the deadline", st(4, 2, 3, 3), st(4, 2, 3, 3, progressingCond(ReasonRSUpdated, "True", now.Add(-time.Minute))),
			ptr(int32(600)), ReasonRSUpdated, "True", now.Add(-time.Minute)},
		{"no progress past the deadline", st(4, 2, 3, 3), st(4, 2, 3, 3, progressingCond(ReasonRSUpdated, "True", now.Add(-11*time.Minute))),
			ptr(int32(600)), ReasonTimedOut, "False", now},
		{"complete stays complete", st(3, 3, 3, 3), st(3, 3, 2, 2, progressingCond(ReasonNewRSAvailable, "True", t0)),
			ptr(int32(600)), ReasonNewRSAvailable, "True", t0},
		{"timed out, then progress", st(4, 2, 3, 3), st(4, 3, 3, 3, progressingCond(ReasonTimedOut, "False", t0)),
			ptr(int32(600)), ReasonRSUpdated, "True", now},
		{"no deadline removes the condition", st(3, 2, 2, 2), st(3, 3, 3, 3, progressingCond(ReasonRSUpdated, "True", t0)),
			nil, "", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deploy(3, "1", "0")
			if tt.new.Replicas == 4 {
				d = deploy(4, "1", "0")
			}
			d.Spec.ProgressDeadlineSeconds = tt.deadline
			d.Status = tt.old
			n := tt.new
			progressCondition(d, rs("web-1", 3, 3, 0), &n, now)
			c := getCondition(&n, appsv1.DeploymentProgressing)
			switch {
			case tt.wantReason == "" && c != nil:
				t.Fatalf("condition %+v, want none", c)
			case tt.wantReason == "":
				return
			case c == nil:
				t.Fatal("no Progressing condition")
			}
			if c.Reason != tt.wantReason || c.Status != tt.wantStatus || !c.LastUpdateTime.Time.Equal(tt.wantUpdate) {
				t.Errorf("condition %s/%s updated %v, want %s/%s updated %v", c.Reason, c.Status, c.LastUpdateTime, tt.wantReason, tt.wantStatus, tt.wantUpdate)
			}
		})
	}
}

func TestProgressMessages(t *testing.T) {
	d := deploy(1, "1", "0")
	d.Status = appsv1.DeploymentStatus{}
	st := appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	progressCondition(d, rs("web-abc", 1, 1, 0), &st, t0)
	if c := getCondition(&st, appsv1.DeploymentProgressing); c == nil || c.Message != `ReplicaSet "web-abc" has successfully progressed.` {
		t.Errorf("condition %+v", c)
	}
}

func TestCalculateStatus(t *testing.T) {
	d := deploy(10, "25%", "25%") // maxUnavailable 2: 8 available suffice
	d.Status.CollisionCount = ptr(int32(2))
	old, newRS := rs("old", 6, 6, 0), rs("new", 5, 2, 1)
	newRS.Status.ReadyReplicas = 3
	st := calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, t0)
	if st.Replicas != 11 || st.UpdatedReplicas != 5 || st.ReadyReplicas != 9 || st.AvailableReplicas != 8 || st.UnavailableReplicas != 3 ||
		st.ObservedGeneration != 1 || *st.CollisionCount != 2 {
		t.Errorf("status %+v", st)
	}
	if c := getCondition(&st, appsv1.DeploymentAvailable); c == nil || c.Status != "True" || c.Reason != ReasonMinAvailable {
		t.Errorf("Available %+v, want True/%s", c, ReasonMinAvailable)
	}
	old.Status.AvailableReplicas = 5
	d.Status = st
	st = calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, t0.Add(time.Minute))
	c := getCondition(&st, appsv1.DeploymentAvailable)
	if c == nil || c.Status != "False" || c.Reason != ReasonMinUnavailable || c.Message != messageMinNotAvailable {
		t.Errorf("Available %+v, want False/%s", c, ReasonMinUnavailable)
	}
	if !c.LastTransitionTime.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("transition time %v, want the time of the change", c.LastTransitionTime)
	}
}

func TestRequeueAfter(t *testing.T) {
	d := deploy(3, "1", "0")
	st := appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonRSUpdated, "True", t0)}}
	if got := requeueAfter(d, &st, t0.Add(590*time.Second)); got != 11*time.Second {
		t.Errorf("requeueAfter = %v, want 11s", got)
	}
	st.Conditions[0].Reason = ReasonTimedOut
	if got := requeueAfter(d, &st, t0); got != 0 {
		t.Errorf("timed out: requeueAfter = %v, want 0", got)
	}
}
