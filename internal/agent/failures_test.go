package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func waitingReason(p *corev1.Pod) (string, string) {
	w := first(p).State.Waiting
	if w == nil {
		return "", ""
	}
	return w.Reason, w.Message
}

// testBadInput: what cannot run shows the reason kubectl users know, an
// event, and recovers once the cause is fixed.
func testBadInput(t *testing.T, c *cluster) {
	ns := c.namespace("bad")
	ctx := context.Background()
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "noimage"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "docker.io/library/does-not-exist:v1"}}}})
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "never"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "docker.io/library/does-not-exist:v2", ImagePullPolicy: corev1.PullNever}}}})
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "noenv"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: sh("sleep 3600"), Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "late"}, Key: "k"}}}}}}}})
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "novolume"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "late-volume"}}}}},
		Containers: []corev1.Container{{Name: "c", Command: sh("sleep 3600"), VolumeMounts: []corev1.VolumeMount{{Name: "cfg", MountPath: "/cfg"}}}}}})
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "badcmd"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Command: []string{"/no/such/binary"}}}}})

	c.waitPod(t, ns, "noimage", 30*time.Second, "ErrImagePull or ImagePullBackOff", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "ErrImagePull" || r == "ImagePullBackOff"
	})
	c.expectEvent(t, ns, "noimage", "Failed", `Failed to pull image "docker.io/library/does-not-exist:v1"`)
	c.waitPod(t, ns, "noimage", 30*time.Second, "ImagePullBackOff", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "ImagePullBackOff"
	})
	c.expectEvent(t, ns, "noimage", "BackOff", `Back-off pulling image "docker.io/library/does-not-exist:v1"`)

	p := c.waitPod(t, ns, "never", 30*time.Second, "ErrImageNeverPull", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "ErrImageNeverPull"
	})
	if _, msg := waitingReason(p); !strings.Contains(msg, "is not present with pull policy of Never") {
		t.Errorf("ErrImageNeverPull message %q", msg)
	}

	p = c.waitPod(t, ns, "noenv", 30*time.Second, "CreateContainerConfigError", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "CreateContainerConfigError"
	})
	if _, msg := waitingReason(p); msg != `configmap "late" not found` {
		t.Errorf("CreateContainerConfigError message %q", msg)
	}
	c.expectEvent(t, ns, "noenv", "Failed", `Error: configmap "late" not found`)

	c.expectEvent(t, ns, "novolume", "FailedMount", `MountVolume.SetUp failed for volume "cfg" : configmap "late-volume" not found`)
	if p, _ := c.client.CoreV1().Pods(ns).Get(ctx, "novolume", metav1.GetOptions{}); p.Status.Phase != corev1.PodPending {
		t.Errorf("pod with an unmountable volume: phase %s %s", p.Status.Phase, brief(p))
	}

	p = c.waitPod(t, ns, "badcmd", 30*time.Second, "failed start shown", func(p *corev1.Pod) bool {
		cs := first(p)
		return cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil
	})
	if term := first(p).LastTerminationState.Terminated; term.Reason != "StartError" || term.ExitCode != 128 {
		t.Errorf("bad command: %+v", term)
	}
	c.expectEvent(t, ns, "badcmd", "Failed", "no such file or directory")

	// Fixing the cause lets the pods start; the agent kept running.
	for _, name := range []string{"late", "late-volume"} {
		if _, err := c.client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name},
			Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.waitPod(t, ns, "noenv", 30*time.Second, "Running once the configMap exists", running)
	c.waitPod(t, ns, "novolume", 30*time.Second, "Running once the configMap exists", running)
}
