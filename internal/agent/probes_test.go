package agent_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testProbes(t *testing.T, c *cluster) {
	ns := c.namespace("probes")
	// Liveness: healthy for a moment, then the probe fails and the
	// container is restarted.
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "liveness"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("touch /tmp/healthy; sleep 1; rm /tmp/healthy; sleep 3600"),
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}},
			PeriodSeconds: 1, FailureThreshold: 1},
	}}}})
	// Readiness over HTTP: Running but not Ready until /ready exists.
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "readiness"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("mkdir /www; (sleep 2; touch /www/ready) & exec httpd -f -p 8080 -h /www"),
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 1},
	}}}})
	// Startup over TCP holds back liveness while the server is slow to
	// come up.
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "startup"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("sleep 2; exec httpd -f -p 8080"),
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
			PeriodSeconds: 1, FailureThreshold: 20},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 1, FailureThreshold: 1},
	}}}})

	p := c.waitPod(t, ns, "readiness", 30*time.Second, "Running but not Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && !ready(p)
	})
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.ContainersReady && (cond.Status != corev1.ConditionFalse || cond.Reason != "ContainersNotReady") {
			t.Errorf("ContainersReady while unready: %+v", cond)
		}
	}
	c.waitPod(t, ns, "readiness", 30*time.Second, "Ready", ready)

	p = c.waitPod(t, ns, "liveness", 30*time.Second, "restarted by liveness", func(p *corev1.Pod) bool {
		return first(p).RestartCount >= 1
	})
	if last := first(p).LastTerminationState.Terminated; last == nil || last.ExitCode != 137 {
		t.Errorf("lastState after a liveness kill: %+v", first(p).LastTerminationState)
	}
	c.expectEvent(t, ns, "liveness", "Unhealthy", "Liveness probe failed")
	c.expectEvent(t, ns, "liveness", "Killing", "Container c failed liveness probe, will be restarted")

	p = c.waitPod(t, ns, "startup", 30*time.Second, "Ready", running)
	if n := first(p).RestartCount; n != 0 {
		t.Errorf("startup probe did not hold back liveness: %d restarts", n)
	}
}

func testCrashLoop(t *testing.T, c *cluster) {
	ns := c.namespace("crashloop")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "crash"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("echo dying; exit 1")}}}})
	p := c.waitPod(t, ns, "crash", 30*time.Second, "CrashLoopBackOff", func(p *corev1.Pod) bool {
		w := first(p).State.Waiting
		return w != nil && w.Reason == "CrashLoopBackOff"
	})
	cs := first(p)
	if cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("crash-looping container: %+v", cs)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (restartPolicy Always)", p.Status.Phase)
	}
	c.expectEvent(t, ns, "crash", "BackOff", "Back-off restarting failed container c in pod crash_crashloop")
}
