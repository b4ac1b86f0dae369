package ttlafterfinished

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func finishedJob(cond batchv1.JobConditionType, at time.Time, ttl *int32) *batchv1.Job {
	j := &batchv1.Job{Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ttl}}
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	}
	return j
}

func TestRemaining(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	deleting := finishedJob(batchv1.JobComplete, now.Add(-time.Hour), ptr.To[int32](0))
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	cases := []struct {
		name    string
		job     *batchv1.Job
		left    time.Duration
		expired bool
	}{
		{"no ttl", finishedJob(batchv1.JobComplete, now.Add(-time.Hour), nil), 0, false},
		{"running", finishedJob("", now, ptr.To[int32](0)), 0, false},
		{"ttl zero", finishedJob(batchv1.JobComplete, now, ptr.To[int32](0)), 0, true},
		{"failed, not yet", finishedJob(batchv1.JobFailed, now.Add(-10*time.Second), ptr.To[int32](60)), 50 * time.Second, false},
		{"exactly at expiry", finishedJob(batchv1.JobComplete, now.Add(-time.Minute), ptr.To[int32](60)), 0, true},
		{"being deleted", deleting, 0, false},
	}
	for _, c := range cases {
		left, expired := remaining(c.job, now)
		if left != c.left || expired != c.expired {
			t.Errorf("%s: remaining = %v, %v; want %v, %v", c.name, left, expired, c.left, c.expired)
		}
	}
}
