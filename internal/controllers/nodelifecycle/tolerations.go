package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// evictionDelay says when a pod on a node with the given NoExecute taints
// must go: now (0) if some taint is not tolerated, never (ok=false) if
// all are tolerated without a limit, else the shortest tolerationSeconds
// among the tolerations that match.
func evictionDelay(tols []corev1.Toleration, taints []corev1.Taint) (delay time.Duration, ok bool) {
	var used []corev1.Toleration
	for i := range taints {
		if taints[i].Effect != corev1.TaintEffectNoExecute {
			continue
		}
		matched := false
		for _, tol := range tols {
			if tol.ToleratesTaint(klog.Background(), &taints[i], false) {
				used = append(used, tol)
				matched = true
			}
		}
		if !matched {
			return 0, true
		}
	}
	if len(used) == 0 {
		return 0, false
	}
	const forever = time.Duration(1<<63 - 1)
	delay = forever
	for _, tol := range used {
		if tol.TolerationSeconds == nil {
			continue
		}
		if *tol.TolerationSeconds <= 0 {
			return 0, true
		}
		delay = min(delay, time.Duration(*tol.TolerationSeconds)*time.Second)
	}
	if delay == forever {
		return 0, false
	}
	return delay, true
}

// noExecuteTaints filters taints down to NoExecute ones.
func noExecuteTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// taintedSince is when the pod became subject to the node's NoExecute
// taints: the earliest time one was added, or the pod's scheduling if that
// came later. Taints without a timestamp count from fallback.
func taintedSince(pod *corev1.Pod, taints []corev1.Taint, fallback time.Time) time.Time {
	var since time.Time
	for _, t := range taints {
		at := fallback
		if t.TimeAdded != nil {
			at = t.TimeAdded.Time
		}
		if since.IsZero() || at.Before(since) {
			since = at
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && c.LastTransitionTime.After(since) {
			since = c.LastTransitionTime.Time
		}
	}
	return since
}
