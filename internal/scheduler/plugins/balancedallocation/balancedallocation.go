// Package balancedallocation is the NodeResourcesBalancedAllocation
// plugin: it favours nodes where, with the pod placed, the fractions of
// each resource in use are close to each other (cpu and memory by
// default), so that no resource is exhausted while others idle. It only
// scores; it reads only the pod and the NodeInfo.
package balancedallocation

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "NodeResourcesBalancedAllocation"

const preScoreKey framework.StateKey = "PreScore" + Name

// Args are the plugin's pluginConfig args.
type Args struct {
	Resources []ResourceSpec `json:"resources,omitempty"`
}

// ResourceSpec names a resource to balance (weights are accepted and,
// as upstream, do not change the spread computation).
type ResourceSpec struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight,omitempty"`
}

// BalancedAllocation is the plugin.
type BalancedAllocation struct{ resources []corev1.ResourceName }

// New builds the plugin.
func New(raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	args := Args{Resources: []ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	p := &BalancedAllocation{}
	for i, r := range args.Resources {
		if r.Name == "" {
			return nil, fmt.Errorf("resources[%d].name: Required value", i)
		}
		p.resources = append(p.resources, corev1.ResourceName(r.Name))
	}
	return p, nil
}

// Name implements framework.Plugin.
func (*BalancedAllocation) Name() string { return Name }

type preScoreState struct{ req framework.Resource }

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore skips pods that request none of the balanced resources
// (best-effort pods change no fraction).
func (p *BalancedAllocation) PreScore(_ context.Context, state *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) *framework.Status {
	req := framework.PodInfoFor(state, pod).Requests
	any := false
	for _, r := range p.resources {
		any = any || req.Get(r) > 0
	}
	if !any {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreKey, &preScoreState{req: req})
	return nil
}

// Score is (1 - standard deviation of the fractions) * 100.
func (p *BalancedAllocation) Score(_ context.Context, state *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	var req framework.Resource
	if d, err := state.Read(preScoreKey); err == nil {
		req = d.(*preScoreState).req
	} else {
		req = framework.PodRequests(pod, false)
	}
	var fr [8]float64
	fractions := fr[:0]
	for _, r := range p.resources {
		alloc := ni.Allocatable.Get(r)
		if alloc == 0 {
			continue
		}
		f := float64(ni.Requested.Get(r)+req.Get(r)) / float64(alloc)
		fractions = append(fractions, min(f, 1))
	}
	return int64((1 - stddev(fractions)) * float64(framework.MaxNodeScore)), nil
}

func stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	if len(xs) == 2 {
		return math.Abs(xs[0]-xs[1]) / 2
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return math.Sqrt(v / float64(len(xs)))
}

// ScoreExtensions implements framework.ScorePlugin.
func (*BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }
