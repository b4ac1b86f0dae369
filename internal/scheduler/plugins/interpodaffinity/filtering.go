// Package interpodaffinity is the InterPodAffinity plugin: required pod
// affinity and anti-affinity over any topology key filter nodes (including
// the anti-affinity of pods already running, which is symmetric), and
// preferred terms score them. It reads the snapshot and namespace labels.
package interpodaffinity

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

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

// domainCounts are pod counts per value of one topology key: counts shared
// with the snapshot (read-only) plus this cycle's what-if changes.
type domainCounts struct {
	key        string
	base       []map[string]int64
	baseTotal  int64
	delta      map[string]int64
	deltaTotal int64
}

func (d *domainCounts) get(v string) int64 {
	n := d.delta[v]
	for _, b := range d.base {
		n += b[v]
	}
	return n
}

func (d *domainCounts) add(v string, n int64) {
	if d.delta == nil {
		d.delta = map[string]int64{}
	}
	d.delta[v] += n
	d.deltaTotal += n
}

func (d *domainCounts) total() int64 { return d.baseTotal + d.deltaTotal }

func (d *domainCounts) clone() *domainCounts {
	c := *d
	c.delta = maps.Clone(d.delta)
	return &c
}

type preFilterState struct {
	// existingAnti, by topology key: existing pods whose required
	// anti-affinity matches the incoming pod. affinity[i]: pods matching
	// all incoming affinity terms, in term i's domains. anti[i]: pods
	// matching incoming anti-affinity term i.
	existingAnti []*domainCounts
	affinity     []*domainCounts
	anti         []*domainCounts
	pod          *framework.PodInfo
	nsLabels     labels.Set
}

func (s *preFilterState) Clone() framework.StateData {
	c := *s
	c.existingAnti, c.affinity, c.anti = cloneAll(s.existingAnti), cloneAll(s.affinity), cloneAll(s.anti)
	return &c
}

func cloneAll(ds []*domainCounts) []*domainCounts {
	out := make([]*domainCounts, len(ds))
	for i, d := range ds {
		out[i] = d.clone()
	}
	return out
}

// PreFilter gathers, per topology domain, the pods the incoming pod's
// required terms match and the existing pods whose anti-affinity matches
// it. The counts come from the snapshot's shared indexes, which are kept
// up to date across cycles, so this costs a lookup per distinct term
// rather than a pass over every pod. Pods without required terms skip
// Filter when no existing pod has required anti-affinity.
func (p *InterPodAffinity) PreFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	pi := framework.PodInfoFor(state, pod)
	if pi.ParseErr != nil {
		return nil, framework.AsStatus(fmt.Errorf("parsing pod affinity: %w", pi.ParseErr))
	}
	lister := p.h.SnapshotSharedLister().NodeInfos()
	groups := lister.RequiredAntiAffinityGroups()
	if len(pi.RequiredAffinityTerms) == 0 && len(pi.RequiredAntiAffinityTerms) == 0 && len(groups) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	pi = p.resolveNamespaces(pi)
	s := &preFilterState{pod: pi, nsLabels: p.nsLabels(pod.Namespace)}
	for _, g := range groups {
		if !g.Term.Matches(pod, s.nsLabels) {
			continue
		}
		d := s.existingAntiFor(g.Term.TopologyKey)
		d.base, d.baseTotal = append(d.base, g.Counts), d.baseTotal+g.Total
	}
	s.affinity = p.affinityCounts(lister, pi.RequiredAffinityTerms)
	for i := range pi.RequiredAntiAffinityTerms {
		t := &pi.RequiredAntiAffinityTerms[i]
		tc := lister.PodsMatching(t, false)
		s.anti = append(s.anti, &domainCounts{key: t.TopologyKey, base: []map[string]int64{tc.Counts}, baseTotal: tc.Total})
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

// affinityCounts counts the pods matching all terms in each term's
// domains: from the shared index for one term, by a pass over the pods
// for several (their conjunction has no shared count).
func (p *InterPodAffinity) affinityCounts(lister framework.NodeInfoLister, terms []framework.AffinityTerm) []*domainCounts {
	out := make([]*domainCounts, len(terms))
	if len(terms) == 1 {
		tc := lister.PodsMatching(&terms[0], false)
		out[0] = &domainCounts{key: terms[0].TopologyKey, base: []map[string]int64{tc.Counts}, baseTotal: tc.Total}
		return out
	}
	for i := range terms {
		out[i] = &domainCounts{key: terms[i].TopologyKey}
	}
	if len(terms) == 0 {
		return out
	}
	for _, ni := range lister.List() {
		for _, e := range ni.Pods {
			if matchesAll(terms, e.Pod, nil) {
				for i := range terms {
					if v, ok := ni.Node().Labels[terms[i].TopologyKey]; ok {
						out[i].add(v, 1)
					}
				}
			}
		}
	}
	return out
}

// update applies a what-if: pod e added (n=1) to or removed (n=-1) from node.
func (s *preFilterState) update(e *framework.PodInfo, node *corev1.Node, n int64) {
	if node == nil {
		return
	}
	for i := range e.RequiredAntiAffinityTerms {
		t := &e.RequiredAntiAffinityTerms[i]
		if v, ok := node.Labels[t.TopologyKey]; ok && t.Matches(s.pod.Pod, s.nsLabels) {
			s.existingAntiFor(t.TopologyKey).add(v, n)
		}
	}
	terms := s.pod.RequiredAffinityTerms
	if len(terms) > 0 && matchesAll(terms, e.Pod, nil) {
		for i := range terms {
			if v, ok := node.Labels[terms[i].TopologyKey]; ok {
				s.affinity[i].add(v, n)
			}
		}
	}
	for i := range s.pod.RequiredAntiAffinityTerms {
		t := &s.pod.RequiredAntiAffinityTerms[i]
		if v, ok := node.Labels[t.TopologyKey]; ok && t.Matches(e.Pod, nil) {
			s.anti[i].add(v, n)
		}
	}
}

// existingAntiFor returns the counts of one topology key (there are few).
func (s *preFilterState) existingAntiFor(key string) *domainCounts {
	for _, d := range s.existingAnti {
		if d.key == key {
			return d
		}
	}
	d := &domainCounts{key: key}
	s.existingAnti = append(s.existingAnti, d)
	return d
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
			out[i].Sign()
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
	d.(*preFilterState).update(pi, ni.Node(), n)
	return nil
}

// Filter implements framework.FilterPlugin.
func (p *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	d, err := state.Read(preFilterKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preFilterKey, err))
	}
	s := d.(*preFilterState)
	nodeLabels := ni.Labels()
	if !s.satisfiesAffinity(nodeLabels) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	if !s.satisfiesAntiAffinity(nodeLabels) {
		return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
	}
	for _, d := range s.existingAnti {
		if v, ok := nodeLabels[d.key]; ok && d.get(v) > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotM)
		}
	}
	return nil
}

// satisfiesAffinity: the node has every term's topology key, and each
// term's domain holds a pod matching all terms -- unless no pod anywhere
// matches and the pod matches its own terms (the first of a group).
func (s *preFilterState) satisfiesAffinity(nodeLabels map[string]string) bool {
	found := true
	for i, t := range s.pod.RequiredAffinityTerms {
		v, ok := nodeLabels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinity[i].get(v) <= 0 {
			found = false
		}
	}
	if found {
		return true
	}
	var total int64
	for _, d := range s.affinity {
		total += d.total()
	}
	return total == 0 && matchesAll(s.pod.RequiredAffinityTerms, s.pod.Pod, s.nsLabels)
}

func (s *preFilterState) satisfiesAntiAffinity(nodeLabels map[string]string) bool {
	for i, t := range s.pod.RequiredAntiAffinityTerms {
		if v, ok := nodeLabels[t.TopologyKey]; ok && s.anti[i].get(v) > 0 {
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
