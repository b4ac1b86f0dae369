package daemonset

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// daemonTolerations are added to every daemon pod (host-network ones also
// tolerate network-unavailable), so a node's health taints do not evict
// or block the pods that may be what makes it healthy.
func daemonTolerations(hostNetwork bool) []corev1.Toleration {
	tol := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	out := []corev1.Toleration{
		tol(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
		tol(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
		tol(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
		tol(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
		tol(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
		tol(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
	}
	if hostNetwork {
		out = append(out, tol(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))
	}
	return out
}

// addDaemonTolerations adds the daemon tolerations to spec, replacing a
// toleration of the same key, operator and effect (one with a
// tolerationSeconds would otherwise evict the pod after a while).
func addDaemonTolerations(spec *corev1.PodSpec) {
	for _, d := range daemonTolerations(spec.HostNetwork) {
		replaced := false
		for i, t := range spec.Tolerations {
			if t.Key == d.Key && t.Effect == d.Effect && t.Operator == d.Operator {
				spec.Tolerations[i] = d
				replaced = true
			}
		}
		if !replaced {
			spec.Tolerations = append(spec.Tolerations, d)
		}
	}
}

// pinToNode makes spec's required node affinity select exactly node by
// name, keeping each term's label expressions, as upstream does for
// daemon pods so the scheduler (not this controller) binds them.
func pinToNode(spec *corev1.PodSpec, node string) {
	field := []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil || len(na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms) == 0 {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: field}}}
		return
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i := range terms {
		terms[i].MatchFields = field
	}
}

// targetNode is the node a daemon pod runs on or is meant for: its
// spec.nodeName, or the metadata.name its required affinity selects.
func targetNode(p *corev1.Pod) (string, bool) {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName, true
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", false
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range t.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0], true
			}
		}
	}
	return "", false
}

// placement decides whether a daemon pod of spec should be started on
// node (run) and whether one already there may stay (keep). spec is the
// template's; the daemon tolerations are taken into account.
func placement(node *corev1.Node, spec *corev1.PodSpec) (run, keep bool) {
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	if !matchesSelector(node, spec) {
		return false, false
	}
	tols := append(append([]corev1.Toleration(nil), spec.Tolerations...), daemonTolerations(spec.HostNetwork)...)
	run, keep = true, true
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(tols, t) {
			continue
		}
		run = false
		if t.Effect == corev1.TaintEffectNoExecute {
			keep = false
		}
	}
	return run, keep
}

func tolerated(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		if tolerates(&tols[i], taint) {
			return true
		}
	}
	return false
}

// tolerates is the toleration-matches-taint rule: same effect (or any),
// same key (or any, with Exists), and Exists or an equal value.
func tolerates(t *corev1.Toleration, taint *corev1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return t.Key != "" && t.Value == taint.Value
	}
	return false
}

// matchesSelector checks nodeSelector and the label expressions of the
// required node affinity (its matchFields are replaced by the node name
// when a pod is made, so they do not restrict which nodes qualify).
func matchesSelector(node *corev1.Node, spec *corev1.PodSpec) bool {
	for k, v := range spec.NodeSelector {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		if termMatches(node.Labels, t.MatchExpressions) {
			return true
		}
	}
	return false
}

func termMatches(lbls map[string]string, reqs []corev1.NodeSelectorRequirement) bool {
	for _, r := range reqs {
		if !requirementMatches(lbls, r) {
			return false
		}
	}
	return true
}

func requirementMatches(lbls map[string]string, r corev1.NodeSelectorRequirement) bool {
	v, ok := lbls[r.Key]
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return ok && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !ok || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return ok
	case corev1.NodeSelectorOpDoesNotExist:
		return !ok
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !ok || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}
