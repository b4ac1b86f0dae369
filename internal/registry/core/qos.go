package core

import (
	corev1 "k8s.io/api/core/v1"
)

// qosResources are the resources that decide a pod's QoS class.
var qosResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// computeQOS classifies a pod: Guaranteed when every container has equal
// cpu and memory requests and limits, BestEffort when none sets any,
// Burstable otherwise.
func computeQOS(spec *corev1.PodSpec) corev1.PodQOSClass {
	cs := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	anySet, guaranteed := false, true
	for i := range cs {
		r := &cs[i].Resources
		for _, name := range qosResources {
			req, hasReq := r.Requests[name]
			lim, hasLim := r.Limits[name]
			if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
				anySet = true
			}
			if !hasLim || lim.IsZero() || !hasReq || req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !anySet:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	default:
		return corev1.PodQOSBurstable
	}
}
