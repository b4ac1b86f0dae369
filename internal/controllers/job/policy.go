package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// matchFailurePolicy applies spec.podFailurePolicy to a failed pod: the
// action of the first rule it matches, and for FailJob the message the
// Job's condition carries. ok is false when no rule matches (the failure
// counts, as with action Count). Only pods in the Failed phase are
// judged: a pod still being deleted has no final container statuses yet.
func matchFailurePolicy(pfp *batchv1.PodFailurePolicy, p *corev1.Pod) (action batchv1.PodFailurePolicyAction, msg string, ok bool) {
	if pfp == nil || p.Status.Phase != corev1.PodFailed {
		return "", "", false
	}
	for i, r := range pfp.Rules {
		switch {
		case r.OnExitCodes != nil:
			if name, code, hit := matchExitCodes(r.OnExitCodes, p); hit {
				return r.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					name, p.Namespace, p.Name, code, r.Action, i), true
			}
		case len(r.OnPodConditions) > 0:
			if t, hit := matchPodConditions(r.OnPodConditions, p); hit {
				return r.Action, fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d",
					p.Namespace, p.Name, t, r.Action, i), true
			}
		}
	}
	return "", "", false
}

// matchExitCodes finds a container (init containers first) that
// terminated with a non-zero exit code the requirement selects. Containers
// that succeeded are never matched, as upstream.
func matchExitCodes(req *batchv1.PodFailurePolicyOnExitCodesRequirement, p *corev1.Pod) (string, int32, bool) {
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			if req.ContainerName != nil && *req.ContainerName != cs.Name {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && in) ||
				(req.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn && !in) {
				return cs.Name, t.ExitCode, true
			}
		}
	}
	return "", 0, false
}

// matchPodConditions reports the first pattern whose condition the pod has
// with the given status (True when unset).
func matchPodConditions(pats []batchv1.PodFailurePolicyOnPodConditionsPattern, p *corev1.Pod) (corev1.PodConditionType, bool) {
	for _, pat := range pats {
		want := pat.Status
		if want == "" {
			want = corev1.ConditionTrue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == pat.Type && c.Status == want {
				return c.Type, true
			}
		}
	}
	return "", false
}

// ignoredFailure reports whether the pod failure policy ignores a failed
// pod: it neither counts nor delays replacement.
func ignoredFailure(j *batchv1.Job, p *corev1.Pod) bool {
	a, _, ok := matchFailurePolicy(j.Spec.PodFailurePolicy, p)
	return ok && a == batchv1.PodFailurePolicyActionIgnore
}

// successPolicyMet reports the first rule of an Indexed Job's success
// policy that the succeeded indexes satisfy. A rule with succeededIndexes
// needs all of them to succeed, or succeededCount of them when that is
// set too; a rule with succeededCount alone needs that many indexes.
func successPolicyMet(sp *batchv1.SuccessPolicy, done indexSet, completions int) (int, bool) {
	if sp == nil {
		return 0, false
	}
	for i, r := range sp.Rules {
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			continue
		}
		n, need := len(done), 0
		if r.SucceededIndexes != nil {
			want := parseIndexes(*r.SucceededIndexes, completions)
			n, need = 0, len(want)
			for ix := range want {
				if done[ix] {
					n++
				}
			}
		}
		if r.SucceededCount != nil {
			need = int(*r.SucceededCount)
		}
		if need > 0 && n >= need {
			return i, true
		}
	}
	return 0, false
}
