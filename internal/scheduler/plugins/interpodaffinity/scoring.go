package interpodaffinity

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// scores maps topology key -> value -> summed weight.
type scores map[string]map[string]int64

func (sc scores) add(key, value string, n int64) {
	m := sc[key]
	if m == nil {
		m = map[string]int64{}
		sc[key] = m
	}
	m[value] += n
}

type preScoreState struct {
	scores scores
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore sums, per topology domain, the weights of preferred terms
// between the incoming pod and the pods already placed, in both
// directions, plus existing pods' required affinity to the incoming pod
// at hardPodAffinityWeight. The incoming pod's terms read the shared
// counts; existing pods' terms are visited only on nodes that have some.
func (p *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	pi := framework.PodInfoFor(state, pod)
	if pi.ParseErr != nil {
		return framework.AsStatus(fmt.Errorf("parsing pod affinity: %w", pi.ParseErr))
	}
	lister := p.h.SnapshotSharedLister().NodeInfos()
	hasPreferred := len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
	withScoring := lister.HavePodsWithScoringAffinityList()
	if !hasPreferred && len(withScoring) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	pi = p.resolveNamespaces(pi)
	nsLabels := p.nsLabels(pod.Namespace)
	s := &preScoreState{scores: scores{}}
	for _, ts := range []struct {
		terms []framework.WeightedAffinityTerm
		sign  int64
	}{{pi.PreferredAffinityTerms, 1}, {pi.PreferredAntiAffinityTerms, -1}} {
		for i := range ts.terms {
			t := &ts.terms[i]
			for v, n := range lister.PodsMatching(&t.AffinityTerm, false).Counts {
				s.scores.add(t.TopologyKey, v, ts.sign*int64(t.Weight)*n)
			}
		}
	}
	for _, ni := range withScoring {
		for _, e := range ni.PodsWithAffinity {
			if e.HasScoringAffinity() {
				p.scoreExisting(s.scores, pi, nsLabels, e, ni.Node())
			}
		}
	}
	if len(s.scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreKey, s)
	return nil
}

// scoreExisting adds what existing pod e's terms say about the incoming pod.
func (p *InterPodAffinity) scoreExisting(sc scores, pi *framework.PodInfo, nsLabels labels.Set, e *framework.PodInfo, node *corev1.Node) {
	add := func(t *framework.AffinityTerm, w int64) {
		if v, ok := node.Labels[t.TopologyKey]; ok && t.Matches(pi.Pod, nsLabels) {
			sc.add(t.TopologyKey, v, w)
		}
	}
	if p.hardWeight > 0 {
		for i := range e.RequiredAffinityTerms {
			add(&e.RequiredAffinityTerms[i], p.hardWeight)
		}
	}
	if p.ignoreExistingPre {
		return
	}
	for i := range e.PreferredAffinityTerms {
		add(&e.PreferredAffinityTerms[i].AffinityTerm, int64(e.PreferredAffinityTerms[i].Weight))
	}
	for i := range e.PreferredAntiAffinityTerms {
		add(&e.PreferredAntiAffinityTerms[i].AffinityTerm, -int64(e.PreferredAntiAffinityTerms[i].Weight))
	}
}

// Score sums the domain scores of the node's topologies.
func (p *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreKey)
	if err != nil {
		return 0, framework.AsStatus(fmt.Errorf("reading %q: %w", preScoreKey, err))
	}
	var total int64
	for key, m := range d.(*preScoreState).scores {
		if v, ok := ni.Labels()[key]; ok {
			total += m[v]
		}
	}
	return total, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps [min, max] to [0, 100].
func (p *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores framework.NodeScoreList) *framework.Status {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = framework.MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
