// Package interpodaffinity is the InterPodAffinity plugin: required pod
// affinity and anti-affinity over any topology key filter nodes (including
// the anti-affinity of pods already running, which is symmetric), and
// preferred terms score them. It reads the snapshot and namespace labels.
package interpodaffinity

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "InterPodAffinity"

// Upstream's messages.
const (
	ErrReasonAffinityRulesNotMatch         = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch     = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinityRulesNotM = "node(s) didn't satisfy existing pods anti-affinity rules"
)

const (
	preFilterKey framework.StateKey = "PreFilter" + Name
	preScoreKey  framework.StateKey = "PreScore" + Name
)

// Args are the plugin's pluginConfig args.
type Args struct {
	// HardPodAffinityWeight scores the required affinity terms of
	// existing pods that match the incoming pod (0-100, default 1).
	HardPodAffinityWeight *int32 `json:"hardPodAffinityWeight,omitempty"`
	// IgnorePreferredTermsOfExistingPods scores only the incoming pod's
	// preferred terms.
	IgnorePreferredTermsOfExistingPods bool `json:"ignorePreferredTermsOfExistingPods,omitempty"`
}

// InterPodAffinity is the plugin.
type InterPodAffinity struct {
	h                 framework.Handle
	hardWeight        int64
	ignoreExistingPre bool
	namespaces        corelisters.NamespaceLister
}

// New builds the plugin.
func New(raw json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	args := Args{}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	w := int32(1)
	if args.HardPodAffinityWeight != nil {
		w = *args.HardPodAffinityWeight
	}
	if w < 0 || w > 100 {
		return nil, fmt.Errorf("hardPodAffinityWeight: must be in the range [0, 100], got %d", w)
	}
	p := &InterPodAffinity{h: h, hardWeight: int64(w), ignoreExistingPre: args.IgnorePreferredTermsOfExistingPods}
	if h != nil && h.SharedInformerFactory() != nil {
		p.namespaces = h.SharedInformerFactory().Core().V1().Namespaces().Lister()
	}
	return p, nil
}

// Name implements framework.Plugin.
func (*InterPodAffinity) Name() string { return Name }

// counts maps topology key -> value -> number of matching pods.
type counts map[string]map[string]int64

func (c counts) add(key, value string, n int64) {
	m := c[key]
	if m == nil {
		m = map[string]int64{}
		c[key] = m
	}
	if m[value] += n; m[value] == 0 {
		delete(m, value)
		if len(m) == 0 {
			delete(c, key)
		}
	}
}

func (c counts) clone() counts {
	out := make(counts, len(c))
	for k, m := range c {
		cm := make(map[string]int64, len(m))
		for v, n := range m {
			cm[v] = n
		}
		out[k] = cm
	}
	return out
}

// anyOnNode reports a positive count for some topology the node is in.
func (c counts) anyOnNode(node *corev1.Node) bool {
	for key, m := range c {
		if v, ok := node.Labels[key]; ok && m[v] > 0 {
			return true
		}
	}
	return false
}

type preFilterState struct {
	// existingAnti: existing pods whose required anti-affinity matches
	// the incoming pod. affinity: pods matching all incoming affinity
	// terms. anti: pods matching each incoming anti-affinity term.
	existingAnti, affinity, anti counts
	pod                          *framework.PodInfo
	nsLabels                     labels.Set
}

func (s *preFilterState) Clone() framework.StateData {
	c := *s
	c.existingAnti, c.affinity, c.anti = s.existingAnti.clone(), s.affinity.clone(), s.anti.clone()
	return &c
}

// PreFilter counts, per topology domain, the pods the incoming pod's
// required terms match and the existing pods whose anti-affinity matches
// it. Pods without required terms skip Filter when no existing pod has
// required anti-affinity.
func (p *InterPodAffinity) PreFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	pi := framework.PodInfoFor(state, pod)
	if pi.ParseErr != nil {
		return nil, framework.AsStatus(fmt.Errorf("parsing pod affinity: %w", pi.ParseErr))
	}
	lister := p.h.SnapshotSharedLister().NodeInfos()
	withAnti := lister.HavePodsWithRequiredAntiAffinityList()
	if len(pi.RequiredAffinityTerms) == 0 && len(pi.RequiredAntiAffinityTerms) == 0 && len(withAnti) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	pi = p.resolveNamespaces(pi)
	s := &preFilterState{existingAnti: counts{}, affinity: counts{}, anti: counts{}, pod: pi, nsLabels: p.nsLabels(pod.Namespace)}
	for _, ni := range withAnti {
		for _, e := range ni.PodsWithRequiredAntiAffinity {
			s.addExistingAnti(e, ni.Node(), 1)
		}
	}
	if len(pi.RequiredAffinityTerms)+len(pi.RequiredAntiAffinityTerms) > 0 {
		for _, ni := range lister.List() {
			for _, e := range ni.Pods {
				s.addIncoming(e, ni.Node(), 1)
			}
		}
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

func (s *preFilterState) addExistingAnti(e *framework.PodInfo, node *corev1.Node, n int64) {
	if node == nil {
		return
	}
	for i := range e.RequiredAntiAffinityTerms {
		t := &e.RequiredAntiAffinityTerms[i]
		if v, ok := node.Labels[t.TopologyKey]; ok && t.Matches(s.pod.Pod, s.nsLabels) {
			s.existingAnti.add(t.TopologyKey, v, n)
		}
	}
}

func (s *preFilterState) addIncoming(e *framework.PodInfo, node *corev1.Node, n int64) {
	if node == nil {
		return
	}
	terms := s.pod.RequiredAffinityTerms
	if len(terms) > 0 && matchesAll(terms, e.Pod, nil) {
		for i := range terms {
			if v, ok := node.Labels[terms[i].TopologyKey]; ok {
				s.affinity.add(terms[i].TopologyKey, v, n)
			}
		}
	}
	for i := range s.pod.RequiredAntiAffinityTerms {
		t := &s.pod.RequiredAntiAffinityTerms[i]
		if v, ok := node.Labels[t.TopologyKey]; ok && t.Matches(e.Pod, nil) {
			s.anti.add(t.TopologyKey, v, n)
		}
	}
}

func matchesAll(terms []framework.AffinityTerm, pod *corev1.Pod, nsLabels labels.Set) bool {
	for i := range terms {
		if !terms[i].Matches(pod, nsLabels) {
			return false
		}
	}
	return true
}

// resolveNamespaces turns the incoming pod's namespace selectors into
// namespace names, so that matching existing pods needs no lookups.
func (p *InterPodAffinity) resolveNamespaces(pi *framework.PodInfo) *framework.PodInfo {
	need := false
	for _, ts := range [][]framework.AffinityTerm{pi.RequiredAffinityTerms, pi.RequiredAntiAffinityTerms} {
		for i := range ts {
			need = need || ts[i].NamespaceSelector != nil
		}
	}
	for _, ts := range [][]framework.WeightedAffinityTerm{pi.PreferredAffinityTerms, pi.PreferredAntiAffinityTerms} {
		for i := range ts {
			need = need || ts[i].NamespaceSelector != nil
		}
	}
	if !need || p.namespaces == nil {
		return pi
	}
	nss, _ := p.namespaces.List(labels.Everything())
	c := *pi
	resolve := func(in []framework.AffinityTerm) []framework.AffinityTerm {
		out := make([]framework.AffinityTerm, len(in))
		for i, t := range in {
			out[i] = t
			if t.NamespaceSelector == nil {
				continue
			}
			out[i].Namespaces = t.Namespaces.Clone()
			for _, ns := range nss {
				if t.NamespaceSelector.Matches(labels.Set(ns.Labels)) {
					out[i].Namespaces.Insert(ns.Name)
				}
			}
			out[i].NamespaceSelector = nil
		}
		return out
	}
	c.RequiredAffinityTerms, c.RequiredAntiAffinityTerms = resolve(pi.RequiredAffinityTerms), resolve(pi.RequiredAntiAffinityTerms)
	c.PreferredAffinityTerms, c.PreferredAntiAffinityTerms = resolveWeighted(pi.PreferredAffinityTerms, resolve), resolveWeighted(pi.PreferredAntiAffinityTerms, resolve)
	return &c
}

func resolveWeighted(in []framework.WeightedAffinityTerm, resolve func([]framework.AffinityTerm) []framework.AffinityTerm) []framework.WeightedAffinityTerm {
	terms := make([]framework.AffinityTerm, len(in))
	for i := range in {
		terms[i] = in[i].AffinityTerm
	}
	terms = resolve(terms)
	out := make([]framework.WeightedAffinityTerm, len(in))
	for i := range in {
		out[i] = framework.WeightedAffinityTerm{AffinityTerm: terms[i], Weight: in[i].Weight}
	}
	return out
}

func (p *InterPodAffinity) nsLabels(ns string) labels.Set {
	if p.namespaces == nil {
		return nil
	}
	if n, err := p.namespaces.Get(ns); err == nil {
		return n.Labels
	}
	return nil
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (p *InterPodAffinity) PreFilterExtensions() framework.PreFilterExtensions { return p }

// AddPod updates the counts as if add ran on its node.
func (p *InterPodAffinity) AddPod(_ context.Context, state *framework.CycleState, _ *corev1.Pod, add *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return p.update(state, add, ni, 1)
}

// RemovePod updates the counts as if rm left its node.
func (p *InterPodAffinity) RemovePod(_ context.Context, state *framework.CycleState, _ *corev1.Pod, rm *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return p.update(state, rm, ni, -1)
}

func (p *InterPodAffinity) update(state *framework.CycleState, pi *framework.PodInfo, ni *framework.NodeInfo, n int64) *framework.Status {
	d, err := state.Read(preFilterKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preFilterKey, err))
	}
	s := d.(*preFilterState)
	s.addExistingAnti(pi, ni.Node(), n)
	s.addIncoming(pi, ni.Node(), n)
	return nil
}

// Filter implements framework.FilterPlugin.
func (p *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	d, err := state.Read(preFilterKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preFilterKey, err))
	}
	s := d.(*preFilterState)
	node := ni.Node()
	if !s.satisfiesAffinity(node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	if !s.satisfiesAntiAffinity(node) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
	}
	if s.existingAnti.anyOnNode(node) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotM)
	}
	return nil
}

// satisfiesAffinity: the node has every term's topology key, and each
// term's domain holds a pod matching all terms -- unless no pod anywhere
// matches and the pod matches its own terms (the first of a group).
func (s *preFilterState) satisfiesAffinity(node *corev1.Node) bool {
	found := true
	for _, t := range s.pod.RequiredAffinityTerms {
		v, ok := node.Labels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinity[t.TopologyKey][v] <= 0 {
			found = false
		}
	}
	if found {
		return true
	}
	return len(s.affinity) == 0 && matchesAll(s.pod.RequiredAffinityTerms, s.pod.Pod, s.nsLabels)
}

func (s *preFilterState) satisfiesAntiAffinity(node *corev1.Node) bool {
	for _, t := range s.pod.RequiredAntiAffinityTerms {
		if v, ok := node.Labels[t.TopologyKey]; ok && s.anti[t.TopologyKey][v] > 0 {
			return false
		}
	}
	return true
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*InterPodAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.PodResource, ActionType: framework.All},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel},
		{Resource: framework.NamespaceResource, ActionType: framework.Add | framework.Update},
	}
}
