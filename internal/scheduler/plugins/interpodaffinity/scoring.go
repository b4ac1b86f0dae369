package interpodaffinity

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

type preScoreState struct {
	scores counts
}

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore sums, per topology domain, the weights of preferred terms
// between the incoming pod and the pods already placed, in both
// directions, plus existing pods' required affinity to the incoming pod
// at hardPodAffinityWeight.
func (p *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	pi := framework.PodInfoFor(state, pod)
	if pi.ParseErr != nil {
		return framework.AsStatus(fmt.Errorf("parsing pod affinity: %w", pi.ParseErr))
	}
	lister := p.h.SnapshotSharedLister().NodeInfos()
	hasPreferred := len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
	nodes := lister.HavePodsWithAffinityList()
	if hasPreferred {
		nodes = lister.List()
	}
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	pi = p.resolveNamespaces(pi)
	nsLabels := p.nsLabels(pod.Namespace)
	s := &preScoreState{scores: counts{}}
	for _, ni := range nodes {
		node := ni.Node()
		if node == nil {
			continue
		}
		pods := ni.PodsWithAffinity
		if hasPreferred {
			pods = ni.Pods
		}
		for _, e := range pods {
			p.score(s.scores, pi, nsLabels, e, node)
		}
	}
	if len(s.scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreKey, s)
	return nil
}

func (p *InterPodAffinity) score(sc counts, pi *framework.PodInfo, nsLabels labels.Set, e *framework.PodInfo, node *corev1.Node) {
	add := func(t *framework.AffinityTerm, w int64) {
		if v, ok := node.Labels[t.TopologyKey]; ok {
			sc.add(t.TopologyKey, v, w)
		}
	}
	for i := range pi.PreferredAffinityTerms {
		if t := &pi.PreferredAffinityTerms[i]; t.Matches(e.Pod, nil) {
			add(&t.AffinityTerm, int64(t.Weight))
		}
	}
	for i := range pi.PreferredAntiAffinityTerms {
		if t := &pi.PreferredAntiAffinityTerms[i]; t.Matches(e.Pod, nil) {
			add(&t.AffinityTerm, -int64(t.Weight))
		}
	}
	if p.hardWeight > 0 {
		for i := range e.RequiredAffinityTerms {
			if t := &e.RequiredAffinityTerms[i]; t.Matches(pi.Pod, nsLabels) {
				add(t, p.hardWeight)
			}
		}
	}
	if p.ignoreExistingPre {
		return
	}
	for i := range e.PreferredAffinityTerms {
		if t := &e.PreferredAffinityTerms[i]; t.Matches(pi.Pod, nsLabels) {
			add(&t.AffinityTerm, int64(t.Weight))
		}
	}
	for i := range e.PreferredAntiAffinityTerms {
		if t := &e.PreferredAntiAffinityTerms[i]; t.Matches(pi.Pod, nsLabels) {
			add(&t.AffinityTerm, -int64(t.Weight))
		}
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
		if v, ok := ni.Node().Labels[key]; ok {
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
