package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestRecovery: an agent restart adopts running pods without restarting
// them and cleans up what belongs to pods deleted meanwhile; a killed
// containerd is restarted and the pods reconciled.
func TestRecovery(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ns := c.namespace("recovery")
	ctx := context.Background()
	pods := c.client.CoreV1().Pods(ns)
	keep := func(name string) {
		c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Command: []string{"httpd", "-f", "-p", "8080"},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1},
		}}}})
	}
	keep("keep")
	doomed := c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}, Spec: corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To(int64(1)), Containers: []corev1.Container{{Name: "c", Command: sh("sleep 3600")}}}})
	before := c.waitPod(t, ns, "keep", 30*time.Second, "Running", running)
	c.waitPod(t, ns, "doomed", 30*time.Second, "Running", running)

	c.stopAgent()
	if err := pods.Delete(ctx, "doomed", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
		t.Fatal(err)
	}
	c.startAgent()
	waitFor(t, 20*time.Second, "orphaned containers removed", func() error {
		if n := len(c.runtimeContainers(t, string(doomed.UID))); n > 0 {
			return errorf("%d left", n)
		}
		return nil
	})
	after := c.waitPod(t, ns, "keep", 30*time.Second, "Ready again after the agent restart", running)
	if b, a := first(before), first(after); a.ContainerID != b.ContainerID || a.RestartCount != 0 ||
		!a.State.Running.StartedAt.Equal(&b.State.Running.StartedAt) || after.Status.PodIP != before.Status.PodIP {
		t.Errorf("the agent restart restarted the pod: before %+v\nafter %+v", b, a)
	}
	waitFor(t, 10*time.Second, "the deleted pod's directory removed", func() error {
		if _, err := os.Stat(filepath.Join(c.dir, "pods", string(doomed.UID))); !os.IsNotExist(err) {
			return errorf("still there (%v)", err)
		}
		return nil
	})

	// containerd dies: the agent restarts it; running pods are untouched
	// and new pods start.
	b, err := os.ReadFile(filepath.Join(c.dir, "containerd", "containerd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill containerd %d: %v", pid, err)
	}
	keep("late")
	c.waitPod(t, ns, "late", 60*time.Second, "Running after containerd came back", running)
	again := c.waitPod(t, ns, "keep", 30*time.Second, "still Running", running)
	if first(again).ContainerID != first(before).ContainerID || first(again).RestartCount != 0 {
		t.Errorf("containerd's restart restarted the pod: %+v", first(again))
	}
	c.waitReady()
}
