// Package nodeaffinity is the NodeAffinity plugin: spec.nodeSelector and
// required node affinity filter nodes, preferred node affinity scores
// them, and a profile may add affinity that every pod must satisfy
// (addedAffinity). It reads only the pod and the node.
package nodeaffinity

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "NodeAffinity"

// Upstream's messages.
const (
	ErrReasonPod              = "node(s) didn't match Pod's node affinity/selector"
	ErrReasonEnforced         = "node(s) didn't match scheduler-enforced node affinity"
	preFilterKey              = framework.StateKey("PreFilter" + Name)
	preScoreKey               = framework.StateKey("PreScore" + Name)
	metadataNameField         = "metadata.name"
	errReasonConflictedFields = "node(s) didn't match Pod's node affinity/selector (conflicting metadata.name terms)"
)

// Args are the plugin's pluginConfig args.
type Args struct {
	// AddedAffinity applies to every pod of the profile.
	AddedAffinity *corev1.NodeAffinity `json:"addedAffinity,omitempty"`
}

// NodeAffinity filters and scores on node affinity.
type NodeAffinity struct {
	added          *framework.NodeSelector
	addedPreferred []weightedTerm
}

type weightedTerm struct {
	sel    *framework.NodeSelector
	weight int64
}

// New builds the plugin.
func New(raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	var args Args
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	p := &NodeAffinity{}
	if a := args.AddedAffinity; a != nil {
		if a.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			p.added = framework.NewNodeSelector(a.RequiredDuringSchedulingIgnoredDuringExecution)
		}
		p.addedPreferred = preferred(a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return p, nil
}

func preferred(terms []corev1.PreferredSchedulingTerm) []weightedTerm {
	var out []weightedTerm
	for _, t := range terms {
		if t.Weight == 0 {
			continue
		}
		out = append(out, weightedTerm{framework.NewNodeSelector(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{t.Preference}}), int64(t.Weight)})
	}
	return out
}

// Name implements framework.Plugin.
func (*NodeAffinity) Name() string { return Name }

type preFilterState struct {
	required framework.RequiredNodeAffinity
}

func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter parses the pod's node constraints; a pod naming nodes through
// metadata.name terms only narrows the search to them.
func (p *NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	req := framework.GetRequiredNodeAffinity(pod)
	if req.Empty() && p.added == nil {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterKey, &preFilterState{required: req})
	names := nodeNames(pod)
	if names == nil {
		return nil, nil
	}
	if names.Len() == 0 {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, errReasonConflictedFields)
	}
	return &framework.PreFilterResult{NodeNames: names}, nil
}

// nodeNames is the union of names over terms, if every term names nodes
// with metadata.name In; nil otherwise.
func nodeNames(pod *corev1.Pod) sets.Set[string] {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	var out sets.Set[string]
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var termNames sets.Set[string]
		for _, f := range t.MatchFields {
			if f.Key != metadataNameField || f.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			if termNames == nil {
				termNames = sets.New(f.Values...)
			} else {
				termNames = termNames.Intersection(sets.New(f.Values...))
			}
		}
		if termNames == nil {
			return nil
		}
		out = out.Union(termNames)
	}
	return out
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (*NodeAffinity) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter implements framework.FilterPlugin.
func (p *NodeAffinity) Filter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	node := ni.Node()
	if p.added != nil && !p.added.Match(node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonEnforced)
	}
	var req framework.RequiredNodeAffinity
	if d, err := state.Read(preFilterKey); err == nil {
		req = d.(*preFilterState).required
	} else {
		req = framework.GetRequiredNodeAffinity(pod)
	}
	if !req.Match(node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonPod)
	}
	return nil
}

type preScoreState []weightedTerm

func (s preScoreState) Clone() framework.StateData { return s }

// PreScore parses the preferred terms; pods with none skip Score.
func (p *NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	terms := p.addedPreferred
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		terms = append(append([]weightedTerm(nil), terms...), preferred(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)...)
	}
	if len(terms) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreKey, preScoreState(terms))
	return nil
}

// Score sums the weights of the matching preferred terms.
func (p *NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var total int64
	for _, t := range d.(preScoreState) {
		if t.sel.Match(ni.Node()) {
			total += t.weight
		}
	}
	return total, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore scales to [0, 100].
func (*NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel}}
}
