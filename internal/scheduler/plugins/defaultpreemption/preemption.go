// Package defaultpreemption is the DefaultPreemption plugin (PostFilter):
// when a pod fits nowhere, it looks for a node where evicting pods of
// lower priority would make room, honouring PodDisruptionBudgets where it
// can, picks the node that costs least, deletes the victims and nominates
// the node for the pod (status.nominatedNodeName). It writes only those
// deletions and pod status patches.
package defaultpreemption

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "DefaultPreemption"

// Upstream's messages.
const (
	msgNoVictims  = "No preemption victims found for incoming pod"
	msgNotHelpful = "Preemption is not helpful for scheduling"
)

// Args are the plugin's pluginConfig args.
type Args struct {
	// MinCandidateNodesPercentage and MinCandidateNodesAbsolute bound how
	// many nodes are dry-run: at least this share of the nodes, and at
	// least this many (defaults 10% and 100).
	MinCandidateNodesPercentage *int32 `json:"minCandidateNodesPercentage,omitempty"`
	MinCandidateNodesAbsolute   *int32 `json:"minCandidateNodesAbsolute,omitempty"`
}

// DefaultPreemption is the plugin.
type DefaultPreemption struct {
	h          framework.Handle
	percentage int32
	absolute   int32
	pdbs       policylisters.PodDisruptionBudgetLister
}

// New builds the plugin.
func New(raw json.RawMessage, h framework.Handle) (framework.Plugin, error) {
	args := Args{}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	p := &DefaultPreemption{h: h, percentage: 10, absolute: 100}
	if args.MinCandidateNodesPercentage != nil {
		p.percentage = *args.MinCandidateNodesPercentage
	}
	if args.MinCandidateNodesAbsolute != nil {
		p.absolute = *args.MinCandidateNodesAbsolute
	}
	if p.percentage < 0 || p.percentage > 100 {
		return nil, fmt.Errorf("minCandidateNodesPercentage: must be in the range [0, 100], got %d", p.percentage)
	}
	if p.absolute < 0 || p.percentage == 0 && p.absolute == 0 {
		return nil, fmt.Errorf("minCandidateNodesAbsolute: must be non-negative, and not zero together with minCandidateNodesPercentage")
	}
	if h != nil && h.SharedInformerFactory() != nil {
		p.pdbs = h.SharedInformerFactory().Policy().V1().PodDisruptionBudgets().Lister()
	}
	return p, nil
}

// Name implements framework.Plugin.
func (*DefaultPreemption) Name() string { return Name }

// candidate is a node with the pods to evict there.
type candidate struct {
	node         string
	victims      []*framework.PodInfo
	pdbViolating int
}

// PostFilter implements framework.PostFilterPlugin.
func (p *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, m framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	if msg, ok := p.eligible(pod, m); !ok {
		return nil, framework.NewStatus(framework.Unschedulable, "preemption: "+msg)
	}
	all := p.h.SnapshotSharedLister().NodeInfos().List()
	cands, statuses, err := p.findCandidates(ctx, state, pod, all, m)
	if err != nil {
		return nil, framework.AsStatus(err)
	}
	if len(cands) == 0 {
		h := framework.ReasonHistogram(statuses, len(all))
		return nil, framework.NewStatus(framework.Unschedulable, fmt.Sprintf("preemption: "+framework.NoNodeAvailableMsg+": %s.", len(all), h))
	}
	best := pickCandidate(cands)
	if err := p.prepare(ctx, pod, best); err != nil {
		return nil, framework.AsStatus(err)
	}
	return &framework.PostFilterResult{NominatedNodeName: best.node}, framework.NewStatus(framework.Success,
		fmt.Sprintf("preemption: found a potential placement for pod on node %s, preempting %d victims", best.node, len(best.victims)))
}

// eligible: PreemptLowerPriority, and not still waiting for earlier
// victims on the nominated node to go away.
func (p *DefaultPreemption) eligible(pod *corev1.Pod, m framework.NodeToStatus) (string, bool) {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == corev1.PreemptNever {
		return "not eligible due to preemptionPolicy=Never.", false
	}
	nom := pod.Status.NominatedNodeName
	if nom == "" || m.Get(nom).Code() == framework.UnschedulableAndUnresolvable {
		return "", true
	}
	ni, err := p.h.SnapshotSharedLister().NodeInfos().Get(nom)
	if err != nil {
		return "", true
	}
	prio := framework.PodPriority(pod)
	for _, e := range ni.Pods {
		if e.Pod.DeletionTimestamp != nil && framework.PodPriority(e.Pod) < prio {
			return "not eligible due to a terminating pod on the nominated node.", false
		}
	}
	return "", true
}

// findCandidates dry-runs preemption on the nodes where it may help,
// starting at a random node, until enough candidates are found.
func (p *DefaultPreemption) findCandidates(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, all []*framework.NodeInfo, m framework.NodeToStatus) ([]candidate, framework.NodeToStatus, error) {
	statuses := framework.NodeToStatus{Map: map[string]*framework.Status{}}
	var potential []*framework.NodeInfo
	for _, ni := range all {
		if m.Get(ni.Node().Name).Code() == framework.UnschedulableAndUnresolvable {
			statuses.Map[ni.Node().Name] = framework.NewStatus(framework.UnschedulableAndUnresolvable, msgNotHelpful)
			continue
		}
		potential = append(potential, ni)
	}
	if len(potential) == 0 {
		return nil, statuses, nil
	}
	want := p.numCandidates(len(potential))
	offset := rand.IntN(len(potential))
	var cands []candidate
	for i := range potential {
		ni := potential[(offset+i)%len(potential)]
		victims, violating, s := p.selectVictims(ctx, state, pod, ni)
		if s.Code() == framework.Error {
			return nil, statuses, s.AsError()
		}
		if !s.IsSuccess() {
			statuses.Map[ni.Node().Name] = s
			continue
		}
		cands = append(cands, candidate{node: ni.Node().Name, victims: victims, pdbViolating: violating})
		if len(cands) >= want {
			break
		}
	}
	return cands, statuses, nil
}

func (p *DefaultPreemption) numCandidates(n int) int {
	c := n * int(p.percentage) / 100
	c = max(c, int(p.absolute))
	return max(1, min(c, n))
}
