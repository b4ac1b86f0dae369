package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"github.com/navarch/navarch/internal/agent/cri"
)

// runtimeContainers lists the runtime's containers of a pod.
func (c *cluster) runtimeContainers(t *testing.T, uid string) []*runtimeapi.Container {
	t.Helper()
	rt, err := cri.Dial(c.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	resp, err := rt.Runtime.ListContainers(context.Background(), &runtimeapi.ListContainersRequest{
		Filter: &runtimeapi.ContainerFilter{LabelSelector: map[string]string{cri.LabelPodUID: uid}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Containers
}

// waitGone waits until the pod object is deleted and checks that its
// containers were gone by then.
func (c *cluster) waitGone(t *testing.T, ns, name, uid string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, name+" deleted", func() error {
		_, err := c.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return errorf("still there")
		}
		return err
	})
	if left := c.runtimeContainers(t, uid); len(left) > 0 {
		t.Errorf("pod %s deleted while the runtime still has %d of its containers", name, len(left))
	}
}

func testTermination(t *testing.T, c *cluster) {
	ns := c.namespace("termination")
	ctx := context.Background()
	host := t.TempDir()
	vol := []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}}}
	mnt := []corev1.VolumeMount{{Name: "host", MountPath: "/host"}}
	graceful := c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "graceful"}, Spec: corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To(int64(20)), Volumes: vol,
		Containers: []corev1.Container{{Name: "c", VolumeMounts: mnt,
			Command:   sh("trap 'echo term >> /host/log; exit 0' TERM; while true; do sleep 0.1; done"),
			Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: sh("echo prestop >> /host/log")}}},
		}}}})
	stubborn := c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stubborn"}, Spec: corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To(int64(3)),
		Containers:                    []corev1.Container{{Name: "c", Command: sh("trap '' TERM; while true; do sleep 0.1; done")}}}})
	forced := c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "forced"}, Spec: corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To(int64(60)),
		Containers:                    []corev1.Container{{Name: "c", Command: sh("trap '' TERM; while true; do sleep 0.1; done")}}}})
	for _, n := range []string{"graceful", "stubborn", "forced"} {
		c.waitPod(t, ns, n, 30*time.Second, "Running", running)
	}
	pods := c.client.CoreV1().Pods(ns)

	start := time.Now()
	if err := pods.Delete(ctx, "graceful", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err := pods.Get(ctx, "graceful", metav1.GetOptions{}); err == nil && p.DeletionTimestamp == nil {
		t.Error("a running pod was removed without a grace period")
	}
	c.waitGone(t, ns, "graceful", string(graceful.UID), 20*time.Second)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a pod that exits on SIGTERM took %v to go", took)
	}
	b, _ := os.ReadFile(filepath.Join(host, "log"))
	if got := strings.Fields(string(b)); len(got) != 2 || got[0] != "prestop" || got[1] != "term" {
		t.Errorf("termination sequence %q, want prestop then term", got)
	}
	c.expectEvent(t, ns, "graceful", "Killing", "Stopping container c")

	start = time.Now()
	if err := pods.Delete(ctx, "stubborn", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.waitGone(t, ns, "stubborn", string(stubborn.UID), 20*time.Second)
	if took := time.Since(start); took < 2*time.Second || took > 10*time.Second {
		t.Errorf("a container ignoring SIGTERM with a 3 s grace period went after %v", took)
	}

	// A forced deletion removes the object at once; the agent kills the
	// containers without waiting out the 60 s grace period.
	if err := pods.Delete(ctx, "forced", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "forced pod's containers gone", func() error {
		if n := len(c.runtimeContainers(t, string(forced.UID))); n > 0 {
			return errorf("%d containers left", n)
		}
		return nil
	})
}
