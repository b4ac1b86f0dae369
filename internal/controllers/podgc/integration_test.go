package podgc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/podgc"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

const wait = 30 * time.Second

func TestPodGC(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	cc.Options.TerminatedPodGCThreshold = 3
	cc.Options.PodGCPeriod = 100 * time.Millisecond
	cc.Options.OrphanedPodQuarantine = 300 * time.Millisecond
	ctl, err := podgc.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client.CoreV1()
	ns := env.Namespace(t, "gc")
	if _, err := c.Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "alive"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mk := func(name, node string, phase corev1.PodPhase) {
		t.Helper()
		p, err := c.Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if phase != corev1.PodPending {
			p.Status.Phase = phase
			if _, err := c.Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Six terminated pods on a live node, created in name order, so that
	// both their creation times (1 s resolution) and the name tie-break
	// make done-0..2 the three oldest.
	for i := range 6 {
		mk(fmt.Sprintf("done-%d", i), "alive", corev1.PodSucceeded)
	}
	mk("running", "alive", corev1.PodRunning)
	mk("orphan-1", "gone-node", corev1.PodRunning)
	mk("orphan-2", "gone-node", corev1.PodPending)

	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	gone := func(name string) {
		t.Helper()
		testserver.Eventually(t, wait, name+" collected", func() (bool, error) {
			_, err := c.Pods(ns).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
	}
	for _, n := range []string{"done-0", "done-1", "done-2", "orphan-1", "orphan-2"} {
		gone(n)
	}
	for _, n := range []string{"done-3", "done-4", "done-5", "running"} {
		if _, err := c.Pods(ns).Get(ctx, n, metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v, want kept", n, err)
		}
	}
}
