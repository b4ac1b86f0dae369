package framework

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// ToleratesTaint reports whether tol tolerates taint: same effect unless
// the toleration has none, same key unless it has none (then it must be
// Exists), and an equal value unless the operator is Exists.
func ToleratesTaint(tol *corev1.Toleration, taint *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != taint.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return tol.Key != "" && tol.Value == taint.Value
	}
	return false
}

// Tolerates reports whether any toleration tolerates taint.
func Tolerates(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		if ToleratesTaint(&tols[i], taint) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first taint accepted by filter that no
// toleration tolerates.
func FindUntoleratedTaint(taints []corev1.Taint, tols []corev1.Toleration, filter func(*corev1.Taint) bool) (*corev1.Taint, bool) {
	for i := range taints {
		t := &taints[i]
		if filter != nil && !filter(t) {
			continue
		}
		if !Tolerates(tols, t) {
			return t, true
		}
	}
	return nil, false
}

// NodeSelector is a parsed corev1.NodeSelector: terms are ORed, and a
// term's requirements are ANDed.
type NodeSelector struct{ terms []nodeSelectorTerm }

type nodeSelectorTerm struct {
	labels labels.Selector // nil: no label requirements
	names  []nameRequirement
}

type nameRequirement struct {
	in     bool
	values []string
}

// NewNodeSelector parses ns. A term that fails to parse, or has no
// requirements, matches no node (as upstream treats it).
func NewNodeSelector(ns *corev1.NodeSelector) *NodeSelector {
	out := &NodeSelector{}
	for _, t := range ns.NodeSelectorTerms {
		if term, ok := parseTerm(&t); ok {
			out.terms = append(out.terms, term)
		}
	}
	return out
}

// parseTerm parses one term; ok is false if it matches nothing.
func parseTerm(t *corev1.NodeSelectorTerm) (nodeSelectorTerm, bool) {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return nodeSelectorTerm{}, false
	}
	var out nodeSelectorTerm
	if len(t.MatchExpressions) > 0 {
		sel, err := NodeSelectorRequirementsAsSelector(t.MatchExpressions)
		if err != nil {
			return out, false
		}
		out.labels = sel
	}
	for _, f := range t.MatchFields {
		if f.Key != "metadata.name" || len(f.Values) == 0 {
			return out, false
		}
		switch f.Operator {
		case corev1.NodeSelectorOpIn:
			out.names = append(out.names, nameRequirement{in: true, values: f.Values})
		case corev1.NodeSelectorOpNotIn:
			out.names = append(out.names, nameRequirement{in: false, values: f.Values})
		default:
			return out, false
		}
	}
	return out, true
}

// NodeSelectorRequirementsAsSelector converts node selector requirements
// to a label selector.
func NodeSelectorRequirementsAsSelector(reqs []corev1.NodeSelectorRequirement) (labels.Selector, error) {
	sel := labels.NewSelector()
	for _, r := range reqs {
		var op selection.Operator
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			op = selection.In
		case corev1.NodeSelectorOpNotIn:
			op = selection.NotIn
		case corev1.NodeSelectorOpExists:
			op = selection.Exists
		case corev1.NodeSelectorOpDoesNotExist:
			op = selection.DoesNotExist
		case corev1.NodeSelectorOpGt:
			op = selection.GreaterThan
		case corev1.NodeSelectorOpLt:
			op = selection.LessThan
		default:
			return nil, fmt.Errorf("%q is not a valid node selector operator", r.Operator)
		}
		req, err := labels.NewRequirement(r.Key, op, r.Values)
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*req)
	}
	return sel, nil
}

// Match reports whether node satisfies some term.
func (s *NodeSelector) Match(node *corev1.Node) bool {
	for _, t := range s.terms {
		if t.match(node) {
			return true
		}
	}
	return false
}

func (t *nodeSelectorTerm) match(node *corev1.Node) bool {
	if t.labels != nil && !t.labels.Matches(labels.Set(node.Labels)) {
		return false
	}
	for _, n := range t.names {
		if slices.Contains(n.values, node.Name) != n.in {
			return false
		}
	}
	return true
}

// RequiredNodeAffinity is a pod's nodeSelector and required node affinity
// together.
type RequiredNodeAffinity struct {
	selector labels.Selector // from spec.nodeSelector; nil if empty
	affinity *NodeSelector   // nil if none
}

// GetRequiredNodeAffinity parses a pod's node constraints.
func GetRequiredNodeAffinity(pod *corev1.Pod) RequiredNodeAffinity {
	var r RequiredNodeAffinity
	if len(pod.Spec.NodeSelector) > 0 {
		r.selector = labels.SelectorFromSet(pod.Spec.NodeSelector)
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.affinity = NewNodeSelector(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	}
	return r
}

// Empty reports that the pod constrains nothing.
func (r RequiredNodeAffinity) Empty() bool { return r.selector == nil && r.affinity == nil }

// Match reports whether node satisfies both.
func (r RequiredNodeAffinity) Match(node *corev1.Node) bool {
	if r.selector != nil && !r.selector.Matches(labels.Set(node.Labels)) {
		return false
	}
	return r.affinity == nil || r.affinity.Match(node)
}

// DefaultNormalizeScore scales scores so the highest becomes maxPriority;
// with reverse, the lowest does. All zeros become maxPriority when
// reversed, 0 otherwise.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores NodeScoreList) {
	var top int64
	for _, s := range scores {
		top = max(top, s.Score)
	}
	if top == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / top
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
