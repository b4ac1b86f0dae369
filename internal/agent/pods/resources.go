package pods

import (
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CPU shares and CFS quota as the kubelet computes them.
const (
	minShares     = 2
	sharesPerCPU  = 1024
	quotaPeriod   = 100000 // µs
	minQuotaPerio = 1000
)

// qosClass is the pod's QoS class, computed as the API server does.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests, limits := false, true
	guaranteed := true
	for _, c := range allContainers(pod) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
				requests = true
			}
			if !hasLim || lim.IsZero() {
				limits = false
			}
			if hasReq && hasLim && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !requests:
		return corev1.PodQOSBestEffort
	case limits && guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// cgroupParent is the pod's cgroupfs parent: /kubepods for Guaranteed
// pods, /kubepods/burstable or /kubepods/besteffort otherwise.
func (m *Manager) cgroupParent(pod *corev1.Pod) string {
	root := m.cfg.CgroupRoot
	switch qosClass(pod) {
	case corev1.PodQOSBurstable:
		root += "/burstable"
	case corev1.PodQOSBestEffort:
		root += "/besteffort"
	}
	return root + "/pod" + string(pod.UID)
}

// removeCgroups deletes the pod's (now empty) cgroup in every hierarchy:
// runc creates the parents but nothing removes them otherwise.
func (m *Manager) removeCgroups(pod *corev1.Pod) {
	parent := m.cgroupParent(pod)
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hierarchies {
		_ = os.Remove(filepath.Join(h, parent))
	}
}

// resources maps requests and limits to CRI's Linux resources.
func (m *Manager) resources(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerResources {
	out := &runtimeapi.LinuxContainerResources{CpuShares: minShares}
	req := c.Resources.Requests
	lim := c.Resources.Limits
	cpuReq, hasReq := req[corev1.ResourceCPU]
	if !hasReq {
		cpuReq, hasReq = lim[corev1.ResourceCPU]
	}
	if hasReq {
		out.CpuShares = max(minShares, cpuReq.MilliValue()*sharesPerCPU/1000)
	}
	if l, ok := lim[corev1.ResourceCPU]; ok && !l.IsZero() {
		out.CpuPeriod = quotaPeriod
		out.CpuQuota = max(minQuotaPerio, l.MilliValue()*quotaPeriod/1000)
	}
	if l, ok := lim[corev1.ResourceMemory]; ok && !l.IsZero() {
		out.MemoryLimitInBytes = l.Value()
	}
	out.OomScoreAdj = m.oomScoreAdj(pod, c)
	return out
}

// oomScoreAdj follows the kubelet's policy by QoS class. Without
// CAP_SYS_RESOURCE containerd clamps values below the agent's own.
func (m *Manager) oomScoreAdj(pod *corev1.Pod, c *corev1.Container) int64 {
	switch qosClass(pod) {
	case corev1.PodQOSGuaranteed:
		return -997
	case corev1.PodQOSBestEffort:
		return 1000
	}
	capacity := m.cfg.Allocatable.Memory().Value()
	req := c.Resources.Requests.Memory().Value()
	if capacity <= 0 {
		return 999
	}
	adj := 1000 - (1000*req)/capacity
	return min(max(adj, 2), 999)
}
