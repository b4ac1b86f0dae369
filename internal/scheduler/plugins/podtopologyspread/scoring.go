package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

const preScoreKey framework.StateKey = "PreScore" + Name

type preScoreState struct {
	constraints []constraint
	// ignored are feasible nodes lacking a constraint's key.
	ignored sets.Set[string]
	// counts[i] maps domain -> matching pods, for non-hostname keys.
	counts  []map[string]int64
	weights []float64
	ns      string
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore counts matching pods per domain for the ScheduleAnyway
// constraints, over the domains of the feasible nodes. Each constraint
// is weighted by the log of its number of domains, so that a zone spread
// and a hostname spread weigh comparably.
func (p *PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo) *framework.Status {
	cs, err := p.constraints(pod, corev1.ScheduleAnyway)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("parsing topology spread constraints: %w", err))
	}
	if len(cs) == 0 || len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	requireAll := len(pod.Spec.TopologySpreadConstraints) > 0 || !p.systemDefaulted
	s := &preScoreState{constraints: cs, ignored: sets.New[string](), counts: make([]map[string]int64, len(cs)), weights: make([]float64, len(cs)), ns: pod.Namespace}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	domains := make([]int, len(cs))
	for _, ni := range nodes {
		node := ni.Node()
		if requireAll && !hasAllKeys(node, cs) {
			s.ignored.Insert(node.Name)
			continue
		}
		for i := range cs {
			v, ok := node.Labels[cs[i].key]
			if !ok {
				continue
			}
			if cs[i].key == corev1.LabelHostname {
				domains[i]++
				continue
			}
			if _, seen := s.counts[i][v]; !seen {
				s.counts[i][v] = 0
				domains[i]++
			}
		}
	}
	aff := framework.GetRequiredNodeAffinity(pod)
	lister := p.h.SnapshotSharedLister().NodeInfos()
	if p.everyNodeCounts(lister, cs, aff) {
		for i := range cs {
			if cs[i].key == corev1.LabelHostname {
				continue
			}
			shared := lister.PodsMatching(cs[i].term(pod.Namespace), true).Counts
			for v := range s.counts[i] {
				s.counts[i][v] = shared[v]
			}
		}
		p.setWeights(s, domains)
		state.Write(preScoreKey, s)
		return nil
	}
	for _, ni := range lister.List() {
		node := ni.Node()
		if requireAll && !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			c := &cs[i]
			if c.key == corev1.LabelHostname || !included(c, aff, pod, node) {
				continue
			}
			v, ok := node.Labels[c.key]
			if _, counted := s.counts[i][v]; ok && counted {
				s.counts[i][v] += countMatching(ni.Pods, c.selector, pod.Namespace)
			}
		}
	}
	p.setWeights(s, domains)
	state.Write(preScoreKey, s)
	return nil
}

// setWeights weighs each constraint by the log of its number of domains.
func (p *PodTopologySpread) setWeights(s *preScoreState, domains []int) {
	for i := range s.constraints {
		s.weights[i] = math.Log(float64(domains[i] + 2))
	}
}

// Score is higher for more matching pods in the node's domains (it is
// reversed when normalized).
func (p *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreKey)
	if err != nil {
		return 0, framework.AsStatus(fmt.Errorf("reading %q: %w", preScoreKey, err))
	}
	s := d.(*preScoreState)
	node := ni.Node()
	if s.ignored.Has(node.Name) {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.key]
		if !ok {
			continue
		}
		var n int64
		if c.key == corev1.LabelHostname {
			n = countMatching(ni.Pods, c.selector, s.ns)
		} else {
			n = s.counts[i][v]
		}
		score += float64(n)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore gives the least crowded nodes 100; ignored nodes get 0.
func (p *PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *corev1.Pod, scores framework.NodeScoreList) *framework.Status {
	d, err := state.Read(preScoreKey)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("reading %q: %w", preScoreKey, err))
	}
	s := d.(*preScoreState)
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignored.Has(sc.Name) {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored.Has(scores[i].Name):
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
