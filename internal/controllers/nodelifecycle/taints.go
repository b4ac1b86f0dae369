package nodelifecycle

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// noScheduleKeys are the NoSchedule taints this controller owns.
var noScheduleKeys = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable,
	corev1.TaintNodeMemoryPressure, corev1.TaintNodeDiskPressure, corev1.TaintNodePIDPressure,
	corev1.TaintNodeNetworkUnavailable,
}

// pressureTaints maps a condition that is True to its taint.
var pressureTaints = map[corev1.NodeConditionType]string{
	corev1.NodeMemoryPressure:     corev1.TaintNodeMemoryPressure,
	corev1.NodeDiskPressure:       corev1.TaintNodeDiskPressure,
	corev1.NodePIDPressure:        corev1.TaintNodePIDPressure,
	corev1.NodeNetworkUnavailable: corev1.TaintNodeNetworkUnavailable,
}

// wantNoSchedule returns the keys of the NoSchedule taints n's conditions
// and spec call for.
func wantNoSchedule(n *corev1.Node) []string {
	var keys []string
	for _, c := range n.Status.Conditions {
		switch {
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionFalse:
			keys = append(keys, corev1.TaintNodeNotReady)
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown:
			keys = append(keys, corev1.TaintNodeUnreachable)
		case c.Status == corev1.ConditionTrue && pressureTaints[c.Type] != "":
			keys = append(keys, pressureTaints[c.Type])
		}
	}
	if n.Spec.Unschedulable {
		keys = append(keys, corev1.TaintNodeUnschedulable)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// withNoSchedule returns taints with our NoSchedule taints replaced by
// want, and whether anything changed. Others' taints are kept as they are.
func withNoSchedule(taints []corev1.Taint, want []string) ([]corev1.Taint, bool) {
	var out []corev1.Taint
	have := map[string]bool{}
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoSchedule && slices.Contains(noScheduleKeys, t.Key) {
			if !slices.Contains(want, t.Key) {
				continue
			}
			have[t.Key] = true
		}
		out = append(out, t)
	}
	changed := len(out) != len(taints)
	for _, k := range want {
		if !have[k] {
			out = append(out, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoSchedule})
			changed = true
		}
	}
	return out, changed
}

// wantNoExecute returns the NoExecute taint key n's readiness calls for
// ("" when ready, or when it never reported readiness).
func wantNoExecute(n *corev1.Node) string {
	switch readyStatus(n) {
	case corev1.ConditionFalse:
		return corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		return corev1.TaintNodeUnreachable
	}
	return ""
}

// noExecuteKeys are the NoExecute taints this controller owns.
var noExecuteKeys = []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}

// hasNoExecute reports whether n carries our NoExecute taint key.
func hasNoExecute(taints []corev1.Taint, key string) bool {
	return slices.ContainsFunc(taints, func(t corev1.Taint) bool { return t.Key == key && t.Effect == corev1.TaintEffectNoExecute })
}

// withNoExecute returns taints carrying exactly the NoExecute taint key of
// ours ("" for none), stamped with now when added.
func withNoExecute(taints []corev1.Taint, key string, added *corev1.Taint) []corev1.Taint {
	out := slices.DeleteFunc(slices.Clone(taints), func(t corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute && slices.Contains(noExecuteKeys, t.Key) && t.Key != key
	})
	if key != "" && !hasNoExecute(out, key) {
		out = append(out, *added)
	}
	return out
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	if c := condition(n, corev1.NodeReady); c != nil {
		return c.Status
	}
	return ""
}

func condition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}
