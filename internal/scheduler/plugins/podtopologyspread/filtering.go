package podtopologyspread

import (
	"context"
	"fmt"
	"maps"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

const preFilterKey framework.StateKey = "PreFilter" + Name

// spreadCounts are matching pods per domain of one constraint: counts
// shared with the snapshot (read-only, may be nil) plus this cycle's own.
type spreadCounts struct {
	base map[string]int64
	own  map[string]int64
	// domains are the constraint's domains (shared when base is).
	domains map[string]int
}

func (c *spreadCounts) get(v string) int64 { return c.base[v] + c.own[v] }

func (c *spreadCounts) add(v string, n int64) {
	if c.own == nil {
		c.own = map[string]int64{}
	}
	c.own[v] += n
}

func (c *spreadCounts) clone() *spreadCounts {
	out := *c
	out.own = maps.Clone(c.own)
	return &out
}

// min is the smallest count over the domains (0 while there are fewer
// than minDomains of them).
func (c *spreadCounts) min(minDomains int32) int64 {
	if int32(len(c.domains)) < minDomains {
		return 0
	}
	if len(c.own) == 0 && len(c.base) < len(c.domains) {
		return 0 // some domain has no matching pod
	}
	lo := int64(math.MaxInt64)
	for v := range c.domains {
		lo = min(lo, c.get(v))
	}
	if lo == math.MaxInt64 {
		lo = 0
	}
	return lo
}

type preFilterState struct {
	constraints []constraint
	counts      []*spreadCounts
	// minMatch[i] is counts[i].min, kept up to date.
	minMatch []int64
	aff      framework.RequiredNodeAffinity
}

func (s *preFilterState) Clone() framework.StateData {
	c := *s
	c.counts = make([]*spreadCounts, len(s.counts))
	for i, sc := range s.counts {
		c.counts[i] = sc.clone()
	}
	c.minMatch = append([]int64(nil), s.minMatch...)
	return &c
}

func (s *preFilterState) updateMin(i int) {
	s.minMatch[i] = s.counts[i].min(s.constraints[i].minDomains)
}

// PreFilter counts the matching pods per domain over the nodes the
// constraints include. When every node counts (no node affinity or taint
// to honour, every node has every key), the counts come from the
// snapshot's shared per-selector index instead of a pass over the nodes.
func (p *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	cs, err := p.constraints(pod, corev1.DoNotSchedule)
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("parsing topology spread constraints: %w", err))
	}
	if len(cs) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{constraints: cs, counts: make([]*spreadCounts, len(cs)), minMatch: make([]int64, len(cs)),
		aff: framework.GetRequiredNodeAffinity(pod)}
	lister := p.h.SnapshotSharedLister().NodeInfos()
	if p.everyNodeCounts(lister, cs, s.aff) {
		for i := range cs {
			s.counts[i] = &spreadCounts{base: lister.PodsMatching(cs[i].term(pod.Namespace), true).Counts, domains: lister.Domains(cs[i].key)}
		}
	} else {
		p.countByNode(lister, pod, s)
	}
	for i := range cs {
		s.updateMin(i)
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

// everyNodeCounts: no inclusion policy leaves a node out, and no node
// lacks a key (which would leave it out of the other constraints).
func (p *PodTopologySpread) everyNodeCounts(lister framework.NodeInfoLister, cs []constraint, aff framework.RequiredNodeAffinity) bool {
	n := len(lister.List())
	for i := range cs {
		if cs[i].honorTaints || cs[i].honorNodeAff && !aff.Empty() {
			return false
		}
		if len(cs) > 1 {
			total := 0
			for _, c := range lister.Domains(cs[i].key) {
				total += c
			}
			if total != n {
				return false
			}
		}
	}
	return true
}

func (p *PodTopologySpread) countByNode(lister framework.NodeInfoLister, pod *corev1.Pod, s *preFilterState) {
	cs := s.constraints
	for i := range cs {
		s.counts[i] = &spreadCounts{own: map[string]int64{}, domains: map[string]int{}}
	}
	for _, ni := range lister.List() {
		node := ni.Node()
		if !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			if !included(&cs[i], s.aff, pod, node) {
				continue
			}
			v := node.Labels[cs[i].key]
			s.counts[i].domains[v]++
			s.counts[i].own[v] += countMatching(ni.Pods, cs[i].selector, pod.Namespace)
		}
	}
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (p *PodTopologySpread) PreFilterExtensions() framework.PreFilterExtensions { return p }

// AddPod implements framework.PreFilterExtensions.
func (p *PodTopologySpread) AddPod(_ context.Context, state *framework.CycleState, pod *corev1.Pod, add *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return p.update(state, pod, add, ni, 1)
}

// RemovePod implements framework.PreFilterExtensions.
func (p *PodTopologySpread) RemovePod(_ context.Context, state *framework.CycleState, pod *corev1.Pod, rm *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	return p.update(state, pod, rm, ni, -1)
}

func (p *PodTopologySpread) update(state *framework.CycleState, pod *corev1.Pod, other *framework.PodInfo, ni *framework.NodeInfo, delta int64) *framework.Status {
	d, err := state.Read(preFilterKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preFilterKey, err))
	}
	s := d.(*preFilterState)
	node := ni.Node()
	if other.Pod.Namespace != pod.Namespace || other.Pod.DeletionTimestamp != nil || !hasAllKeys(node, s.constraints) {
		return nil
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		if !included(c, s.aff, pod, node) || !c.selector.Matches(labels.Set(other.Pod.Labels)) {
			continue
		}
		s.counts[i].add(node.Labels[c.key], delta)
		s.updateMin(i)
	}
	return nil
}

// Filter rejects a node where placing the pod would make some
// constraint's skew exceed maxSkew.
func (p *PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	d, err := state.Read(preFilterKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preFilterKey, err))
	}
	s := d.(*preFilterState)
	nodeLabels := ni.Labels()
	podLabels := labels.Set(pod.Labels)
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := nodeLabels[c.key]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		var self int64
		if c.selector.Matches(podLabels) {
			self = 1
		}
		if skew := s.counts[i].get(v) + self - s.minMatch[i]; skew > int64(c.maxSkew) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}
