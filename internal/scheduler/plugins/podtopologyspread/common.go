// Package podtopologyspread is the PodTopologySpread plugin: pods'
// topologySpreadConstraints filter nodes (DoNotSchedule) and score them
// (ScheduleAnyway), and pods without constraints get the system default
// constraints -- spread by hostname and zone over the pods of the same
// Service, ReplicaSet, ReplicationController or StatefulSet. It reads the
// snapshot and listers of those owners.
package podtopologyspread

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "PodTopologySpread"

// Upstream's messages.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// Defaulting types.
const (
	SystemDefaulting = "System"
	ListDefaulting   = "List"
)

// Args are the plugin's pluginConfig args.
type Args struct {
	DefaultConstraints []corev1.TopologySpreadConstraint `json:"defaultConstraints,omitempty"`
	DefaultingType     string                            `json:"defaultingType,omitempty"`
}

// systemDefaults are upstream's built-in default constraints.
var systemDefaults = []corev1.TopologySpreadConstraint{
	{TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 3},
	{TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 5},
}

// PodTopologySpread is the plugin.
type PodTopologySpread struct {
	h               framework.Handle
	defaults        []corev1.TopologySpreadConstraint
	systemDefaulted bool
	services        corelisters.ServiceLister
	rcs             corelisters.ReplicationControllerLister
	rss             appslisters.ReplicaSetLister
	sss             appslisters.StatefulSetLister
}

// New builds the plugin.
func New(raw json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	args := Args{DefaultingType: SystemDefaulting}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	p := &PodTopologySpread{h: h}
	switch args.DefaultingType {
	case SystemDefaulting:
		if len(args.DefaultConstraints) > 0 {
			return nil, fmt.Errorf("defaultConstraints: must be empty when defaultingType is %s", SystemDefaulting)
		}
		p.defaults, p.systemDefaulted = systemDefaults, true
	case ListDefaulting:
		for i, c := range args.DefaultConstraints {
			if c.LabelSelector != nil {
				return nil, fmt.Errorf("defaultConstraints[%d].labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod", i)
			}
			if c.MaxSkew <= 0 || c.TopologyKey == "" {
				return nil, fmt.Errorf("defaultConstraints[%d]: maxSkew must be positive and topologyKey set", i)
			}
		}
		p.defaults = args.DefaultConstraints
	default:
		return nil, fmt.Errorf("defaultingType: Unsupported value: %q: supported values: %q, %q", args.DefaultingType, SystemDefaulting, ListDefaulting)
	}
	if h != nil && h.SharedInformerFactory() != nil && len(p.defaults) > 0 {
		f := h.SharedInformerFactory()
		p.services, p.rcs = f.Core().V1().Services().Lister(), f.Core().V1().ReplicationControllers().Lister()
		p.rss, p.sss = f.Apps().V1().ReplicaSets().Lister(), f.Apps().V1().StatefulSets().Lister()
	}
	return p, nil
}

// Name implements framework.Plugin.
func (*PodTopologySpread) Name() string { return Name }

// constraint is a parsed topology spread constraint.
type constraint struct {
	maxSkew      int32
	key          string
	selector     labels.Selector
	minDomains   int32
	honorNodeAff bool
	honorTaints  bool
}

// term is the constraint as an affinity term over pods of ns, for the
// snapshot's shared counts.
func (c *constraint) term(ns string) *framework.AffinityTerm {
	t := framework.AffinityTerm{Namespaces: sets.New(ns), Selector: c.selector, TopologyKey: c.key}
	t.Sign()
	return &t
}

// constraints returns the pod's constraints of one action, or the
// defaults when the pod has none at all.
func (p *PodTopologySpread) constraints(pod *corev1.Pod, action corev1.UnsatisfiableConstraintAction) ([]constraint, error) {
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		return parse(pod, pod.Spec.TopologySpreadConstraints, action, nil)
	}
	if len(p.defaults) == 0 {
		return nil, nil
	}
	sel := p.defaultSelector(pod)
	if sel.Empty() {
		return nil, nil
	}
	return parse(pod, p.defaults, action, sel)
}

func parse(pod *corev1.Pod, in []corev1.TopologySpreadConstraint, action corev1.UnsatisfiableConstraintAction, sel labels.Selector) ([]constraint, error) {
	var out []constraint
	for _, c := range in {
		if c.WhenUnsatisfiable != action {
			continue
		}
		s := sel
		if s == nil {
			var err error
			if s, err = metav1.LabelSelectorAsSelector(c.LabelSelector); err != nil {
				return nil, err
			}
			for _, k := range c.MatchLabelKeys {
				if v, ok := pod.Labels[k]; ok {
					r, err := labels.NewRequirement(k, "in", []string{v})
					if err != nil {
						return nil, err
					}
					s = s.Add(*r)
				}
			}
		}
		pc := constraint{maxSkew: c.MaxSkew, key: c.TopologyKey, selector: s, minDomains: 1, honorNodeAff: true}
		if c.MinDomains != nil {
			pc.minDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil {
			pc.honorNodeAff = *c.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor
		}
		if c.NodeTaintsPolicy != nil {
			pc.honorTaints = *c.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor
		}
		out = append(out, pc)
	}
	return out, nil
}

// defaultSelector selects the pods of the Services, ReplicationControllers,
// ReplicaSets and StatefulSets that select pod.
func (p *PodTopologySpread) defaultSelector(pod *corev1.Pod) labels.Selector {
	if p.services == nil {
		return labels.Everything()
	}
	set := labels.Set{}
	podLabels := labels.Set(pod.Labels)
	if svcs, err := p.services.Services(pod.Namespace).List(labels.Everything()); err == nil {
		for _, s := range svcs {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
				for k, v := range s.Spec.Selector {
					set[k] = v
				}
			}
		}
	}
	if rcs, err := p.rcs.ReplicationControllers(pod.Namespace).List(labels.Everything()); err == nil {
		for _, rc := range rcs {
			if len(rc.Spec.Selector) > 0 && labels.SelectorFromSet(rc.Spec.Selector).Matches(podLabels) {
				for k, v := range rc.Spec.Selector {
					set[k] = v
				}
			}
		}
	}
	sel := labels.SelectorFromSet(set)
	add := func(ls *metav1.LabelSelector) {
		s, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil || s.Empty() || !s.Matches(podLabels) {
			return
		}
		reqs, _ := s.Requirements()
		sel = sel.Add(reqs...)
	}
	if rss, err := p.rss.ReplicaSets(pod.Namespace).List(labels.Everything()); err == nil {
		for _, rs := range rss {
			add(rs.Spec.Selector)
		}
	}
	if sss, err := p.sss.StatefulSets(pod.Namespace).List(labels.Everything()); err == nil {
		for _, ss := range sss {
			add(ss.Spec.Selector)
		}
	}
	return sel
}

// countMatching counts the pods of ns on a node that the selector
// matches, leaving out terminating pods.
func countMatching(pods []*framework.PodInfo, sel labels.Selector, ns string) int64 {
	var n int64
	for _, p := range pods {
		if p.Pod.DeletionTimestamp != nil || p.Pod.Namespace != ns {
			continue
		}
		if sel.Matches(labels.Set(p.Pod.Labels)) {
			n++
		}
	}
	return n
}

// included applies the node inclusion policies of c.
func included(c *constraint, aff framework.RequiredNodeAffinity, pod *corev1.Pod, node *corev1.Node) bool {
	if c.honorNodeAff && !aff.Match(node) {
		return false
	}
	if c.honorTaints {
		if _, bad := framework.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
		}); bad {
			return false
		}
	}
	return true
}

func hasAllKeys(node *corev1.Node, cs []constraint) bool {
	for i := range cs {
		if _, ok := node.Labels[cs[i].key]; !ok {
			return false
		}
	}
	return true
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*PodTopologySpread) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.PodResource, ActionType: framework.All},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.Delete | framework.UpdateNodeLabel | framework.UpdateNodeTaint},
	}
}
