// Package noderesources is the NodeResourcesFit plugin: a pod fits a node
// only if its requests for cpu, memory, ephemeral storage, extended
// resources and one pod slot fit in the node's allocatable minus what the
// pods there request; feasible nodes are scored by a strategy
// (LeastAllocated by default, MostAllocated, RequestedToCapacityRatio).
// It reads only the pod and the NodeInfo.
package noderesources

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Name of the plugin.
const Name = "NodeResourcesFit"

const preFilterKey framework.StateKey = "PreFilter" + Name

// Scoring strategies.
const (
	LeastAllocated           = "LeastAllocated"
	MostAllocated            = "MostAllocated"
	RequestedToCapacityRatio = "RequestedToCapacityRatio"
)

// Args are the plugin's pluginConfig args.
type Args struct {
	// IgnoredResources and IgnoredResourceGroups (the part before "/")
	// name extended resources the filter ignores.
	IgnoredResources      []string         `json:"ignoredResources,omitempty"`
	IgnoredResourceGroups []string         `json:"ignoredResourceGroups,omitempty"`
	ScoringStrategy       *ScoringStrategy `json:"scoringStrategy,omitempty"`
}

// ScoringStrategy selects and weighs the score.
type ScoringStrategy struct {
	Type                     string                          `json:"type,omitempty"`
	Resources                []ResourceSpec                  `json:"resources,omitempty"`
	RequestedToCapacityRatio *RequestedToCapacityRatioParams `json:"requestedToCapacityRatio,omitempty"`
}

// ResourceSpec weighs one resource in a score.
type ResourceSpec struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight,omitempty"`
}

// RequestedToCapacityRatioParams is the utilization-to-score shape.
type RequestedToCapacityRatioParams struct {
	Shape []UtilizationShapePoint `json:"shape,omitempty"`
}

// UtilizationShapePoint maps a utilization (0-100) to a score (0-10).
type UtilizationShapePoint struct {
	Utilization int32 `json:"utilization"`
	Score       int32 `json:"score"`
}

// DefaultResources are what scores weigh by default.
var DefaultResources = []ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}

// Fit is the plugin.
type Fit struct {
	ignored       sets.Set[string]
	ignoredGroups sets.Set[string]
	scorer        func(requested, allocatable int64) int64
	resources     []ResourceSpec
}

// New builds the plugin.
func New(raw json.RawMessage, _ framework.Handle) (framework.Plugin, error) {
	args := Args{}
	if err := framework.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	f := &Fit{ignored: sets.New(args.IgnoredResources...), ignoredGroups: sets.New(args.IgnoredResourceGroups...), resources: append([]ResourceSpec(nil), DefaultResources...)}
	st := args.ScoringStrategy
	if st == nil {
		st = &ScoringStrategy{Type: LeastAllocated}
	}
	if len(st.Resources) > 0 {
		f.resources = append([]ResourceSpec(nil), st.Resources...)
	}
	for i, r := range f.resources {
		if r.Weight <= 0 || r.Weight > 100 {
			if r.Weight != 0 {
				return nil, fmt.Errorf("scoringStrategy.resources[%d].weight: must be in the range [1, 100]", i)
			}
			f.resources[i].Weight = 1
		}
	}
	switch st.Type {
	case "", LeastAllocated:
		f.scorer = leastAllocated
	case MostAllocated:
		f.scorer = mostAllocated
	case RequestedToCapacityRatio:
		if st.RequestedToCapacityRatio == nil || len(st.RequestedToCapacityRatio.Shape) == 0 {
			return nil, fmt.Errorf("scoringStrategy.requestedToCapacityRatio.shape: Required value")
		}
		s, err := newShape(st.RequestedToCapacityRatio.Shape)
		if err != nil {
			return nil, err
		}
		f.scorer = s
	default:
		return nil, fmt.Errorf("scoringStrategy.type: Unsupported value: %q: supported values: %q, %q, %q", st.Type, LeastAllocated, MostAllocated, RequestedToCapacityRatio)
	}
	return f, nil
}

// Name implements framework.Plugin.
func (*Fit) Name() string { return Name }

type preFilterState struct{ framework.Resource }

func (s *preFilterState) Clone() framework.StateData { return s }

// PreFilter records the pod's requests.
func (f *Fit) PreFilter(_ context.Context, state *framework.CycleState, pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
	state.Write(preFilterKey, &preFilterState{framework.PodInfoFor(state, pod).Requests})
	return nil, nil
}

// PreFilterExtensions implements framework.PreFilterPlugin.
func (*Fit) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// Filter implements framework.FilterPlugin.
func (f *Fit) Filter(_ context.Context, state *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	var req framework.Resource
	if d, err := state.Read(preFilterKey); err == nil {
		req = d.(*preFilterState).Resource
	} else {
		req = framework.PodRequests(pod, false)
	}
	reasons, unresolvable := f.insufficient(&req, ni)
	if len(reasons) == 0 {
		return nil
	}
	code := framework.Unschedulable
	if unresolvable {
		code = framework.UnschedulableAndUnresolvable
	}
	return framework.NewStatus(code, reasons...)
}

// insufficient lists upstream's reasons ("Too many pods", "Insufficient
// cpu", ...). unresolvable is set when a request exceeds the node's whole
// allocatable, which no preemption can fix.
func (f *Fit) insufficient(req *framework.Resource, ni *framework.NodeInfo) (reasons []string, unresolvable bool) {
	alloc, used := &ni.Allocatable, &ni.Requested
	if int64(len(ni.Pods))+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, "Too many pods")
		unresolvable = alloc.AllowedPodNumber < 1
	}
	if req.MilliCPU == 0 && req.Memory == 0 && req.EphemeralStorage == 0 && len(req.Scalar) == 0 {
		return reasons, unresolvable
	}
	check := func(name string, want, have, inUse int64) {
		if want > 0 && want > have-inUse {
			reasons = append(reasons, "Insufficient "+name)
			unresolvable = unresolvable || want > have
		}
	}
	check("cpu", req.MilliCPU, alloc.MilliCPU, used.MilliCPU)
	check("memory", req.Memory, alloc.Memory, used.Memory)
	check("ephemeral-storage", req.EphemeralStorage, alloc.EphemeralStorage, used.EphemeralStorage)
	for name, want := range req.Scalar {
		if f.isIgnored(name) {
			continue
		}
		check(string(name), want, alloc.Scalar[name], used.Scalar[name])
	}
	return reasons, unresolvable
}

func (f *Fit) isIgnored(name corev1.ResourceName) bool {
	if !framework.IsExtendedResource(name) {
		return false
	}
	if f.ignored.Has(string(name)) {
		return true
	}
	group, _, _ := strings.Cut(string(name), "/")
	return f.ignoredGroups.Has(group)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*Fit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.PodResource, ActionType: framework.Delete | framework.UpdatePodScaleDown},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeAllocatable},
	}
}
