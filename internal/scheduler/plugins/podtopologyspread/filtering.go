package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

const preFilterKey framework.StateKey = "PreFilter" + Name

type preFilterState struct {
	constraints []constraint
	// counts[i] maps a value of constraint i's key to matching pods.
	counts []map[string]int64
	// minMatch[i] is the smallest count over constraint i's domains
	// (0 while fewer than minDomains domains exist).
	minMatch []int64
	aff      framework.RequiredNodeAffinity
}

func (s *preFilterState) Clone() framework.StateData {
	c := *s
	c.counts = make([]map[string]int64, len(s.counts))
	for i, m := range s.counts {
		c.counts[i] = make(map[string]int64, len(m))
		for k, v := range m {
			c.counts[i][k] = v
		}
	}
	c.minMatch = append([]int64(nil), s.minMatch...)
	return &c
}

func (s *preFilterState) updateMin(i int) {
	if int32(len(s.counts[i])) < s.constraints[i].minDomains {
		s.minMatch[i] = 0
		return
	}
	lo := int64(math.MaxInt64)
	for _, n := range s.counts[i] {
		lo = min(lo, n)
	}
	if lo == math.MaxInt64 {
		lo = 0
	}
	s.minMatch[i] = lo
}

// PreFilter counts the matching pods per domain over the nodes the
// constraints include.
func (p *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	cs, err := p.constraints(pod, corev1.DoNotSchedule)
	if err != nil {
		return nil, framework.AsStatus(fmt.Errorf("parsing topology spread constraints: %w", err))
	}
	if len(cs) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{constraints: cs, counts: make([]map[string]int64, len(cs)), minMatch: make([]int64, len(cs)),
		aff: framework.GetRequiredNodeAffinity(pod)}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range p.h.SnapshotSharedLister().NodeInfos().List() {
		node := ni.Node()
		if !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			if !included(&cs[i], s.aff, pod, node) {
				continue
			}
			s.counts[i][node.Labels[cs[i].key]] += countMatching(ni.Pods, cs[i].selector, pod.Namespace)
		}
	}
	for i := range cs {
		s.updateMin(i)
	}
	state.Write(preFilterKey, s)
	return nil, nil
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
		s.counts[i][node.Labels[c.key]] += delta
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
		if skew := s.counts[i][v] + self - s.minMatch[i]; skew > int64(c.maxSkew) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}
