package ttlafterfinished_test

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/controllers/ttlafterfinished"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

func TestDeletesFinishedJobsAfterTTL(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := ttlafterfinished.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	go ctl.Run(ctx)
	ns := env.Namespace(t, "ttl")
	c := env.Client

	mk := func(name string, ttl *int32, finish bool) {
		j := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ttl, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			}}},
		}
		j, err := c.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !finish {
			return
		}
		now := metav1.Now()
		j.Status.StartTime, j.Status.CompletionTime = &now, &now
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		if _, err := c.BatchV1().Jobs(ns).UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("now", ptr.To[int32](0), true)
	mk("soon", ptr.To[int32](1), true)
	mk("keep", nil, true)
	mk("running", ptr.To[int32](0), false)

	for _, name := range []string{"now", "soon"} {
		testserver.Eventually(t, 15*time.Second, "job "+name+" to be deleted", func() (bool, error) {
			_, err := c.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	}
	for _, name := range []string{"keep", "running"} {
		if _, err := c.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("job %s: %v; want it kept", name, err)
		}
	}
}
