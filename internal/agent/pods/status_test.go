package pods

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPhase(t *testing.T) {
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	waitingNew := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	crashLoop := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}
	ok := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}
	failed := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}
	for _, tc := range []struct {
		name     string
		policy   corev1.RestartPolicy
		statuses []corev1.ContainerStatus
		v        view
		want     corev1.PodPhase
	}{
		{"init running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{waitingNew}, view{}, corev1.PodPending},
		{"init failed for good", corev1.RestartPolicyNever, []corev1.ContainerStatus{waitingNew}, view{initFailed: true}, corev1.PodFailed},
		{"one running one waiting", corev1.RestartPolicyAlways, []corev1.ContainerStatus{running, waitingNew}, view{initDone: true}, corev1.PodPending},
		{"running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{running}, view{initDone: true}, corev1.PodRunning},
		{"crash loop is running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{crashLoop}, view{initDone: true}, corev1.PodRunning},
		{"all succeeded, Never", corev1.RestartPolicyNever, []corev1.ContainerStatus{ok, ok}, view{initDone: true}, corev1.PodSucceeded},
		{"one failed, Never", corev1.RestartPolicyNever, []corev1.ContainerStatus{ok, failed}, view{initDone: true}, corev1.PodFailed},
		{"failed, OnFailure restarts", corev1.RestartPolicyOnFailure, []corev1.ContainerStatus{failed}, view{initDone: true}, corev1.PodRunning},
		{"succeeded, OnFailure", corev1.RestartPolicyOnFailure, []corev1.ContainerStatus{ok}, view{initDone: true}, corev1.PodSucceeded},
		{"exited, Always restarts", corev1.RestartPolicyAlways, []corev1.ContainerStatus{ok}, view{initDone: true}, corev1.PodRunning},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: tc.policy}}
		if got := phase(pod, &corev1.PodStatus{ContainerStatuses: tc.statuses}, tc.v); got != tc.want {
			t.Errorf("%s: phase %s, want %s", tc.name, got, tc.want)
		}
	}
	if got := finalPhase(&corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{ok, failed}}); got != corev1.PodFailed {
		t.Errorf("final phase with a failure: %s", got)
	}
}

func TestQOSAndCgroupParent(t *testing.T) {
	res := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{}
		if req != "" {
			r.Requests = corev1.ResourceList{corev1.ResourceCPU: mustQ(req), corev1.ResourceMemory: mustQ("64Mi")}
		}
		if lim != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceCPU: mustQ(lim), corev1.ResourceMemory: mustQ("64Mi")}
		}
		return r
	}
	m := &Manager{cfg: Config{CgroupRoot: "/kubepods"}}
	for _, tc := range []struct {
		name   string
		r      corev1.ResourceRequirements
		qos    corev1.PodQOSClass
		parent string
	}{
		{"nothing", res("", ""), corev1.PodQOSBestEffort, "/kubepods/besteffort/podu"},
		{"requests only", res("100m", ""), corev1.PodQOSBurstable, "/kubepods/burstable/podu"},
		{"requests below limits", res("100m", "200m"), corev1.PodQOSBurstable, "/kubepods/burstable/podu"},
		{"requests equal limits", res("200m", "200m"), corev1.PodQOSGuaranteed, "/kubepods/podu"},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: tc.r}}}}
		pod.UID = "u"
		if q := qosClass(pod); q != tc.qos {
			t.Errorf("%s: qos %s, want %s", tc.name, q, tc.qos)
		}
		if p := m.cgroupParent(pod); p != tc.parent {
			t.Errorf("%s: cgroup parent %s, want %s", tc.name, p, tc.parent)
		}
	}
	lim := &corev1.Container{Resources: res("250m", "500m")}
	r := m.resources(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{*lim}}}, lim)
	if r.CpuShares != 256 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || r.MemoryLimitInBytes != 64<<20 {
		t.Errorf("linux resources %+v", r)
	}
}
