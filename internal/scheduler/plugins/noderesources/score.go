package noderesources

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Score weighs each resource's score by the strategy. Cpu and memory use
// the non-zero requests, so that best-effort pods still spread.
func (f *Fit) Score(_ context.Context, state *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	pi := framework.PodInfoFor(state, pod)
	var sum, weights int64
	for _, r := range f.resources {
		name := corev1.ResourceName(r.Name)
		alloc := ni.Allocatable.Get(name)
		if alloc == 0 {
			continue
		}
		var req int64
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory:
			req = ni.NonZeroRequested.Get(name) + pi.NonZero.Get(name)
		default:
			req = ni.Requested.Get(name) + pi.Requests.Get(name)
		}
		sum += f.scorer(req, alloc) * r.Weight
		weights += r.Weight
	}
	if weights == 0 {
		return 0, nil
	}
	return sum / weights, nil
}

// ScoreExtensions implements framework.ScorePlugin: scores are already in
// [0, 100].
func (*Fit) ScoreExtensions() framework.ScoreExtensions { return nil }

// leastAllocated favours emptier nodes.
func leastAllocated(req, alloc int64) int64 {
	if req > alloc {
		return 0
	}
	return (alloc - req) * framework.MaxNodeScore / alloc
}

// mostAllocated favours fuller nodes (bin packing).
func mostAllocated(req, alloc int64) int64 {
	if req > alloc {
		req = alloc
	}
	return req * framework.MaxNodeScore / alloc
}

// newShape builds RequestedToCapacityRatio's piecewise-linear function.
// Shape scores are 0-10, as upstream's, and scaled to 0-100.
func newShape(points []UtilizationShapePoint) (func(req, alloc int64) int64, error) {
	pts := append([]UtilizationShapePoint(nil), points...)
	sort.Slice(pts, func(i, j int) bool { return pts[i].Utilization < pts[j].Utilization })
	for i, p := range pts {
		if p.Utilization < 0 || p.Utilization > 100 {
			return nil, fmt.Errorf("requestedToCapacityRatio.shape[%d].utilization: must be in the range [0, 100]", i)
		}
		if p.Score < 0 || p.Score > 10 {
			return nil, fmt.Errorf("requestedToCapacityRatio.shape[%d].score: must be in the range [0, 10]", i)
		}
		if i > 0 && pts[i-1].Utilization == p.Utilization {
			return nil, fmt.Errorf("requestedToCapacityRatio.shape: utilization values must be unique")
		}
	}
	return func(req, alloc int64) int64 {
		u := min(req*100/alloc, 100)
		if u <= int64(pts[0].Utilization) {
			return int64(pts[0].Score) * 10
		}
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			if u <= int64(b.Utilization) {
				s0, s1 := int64(a.Score)*10, int64(b.Score)*10
				return s0 + (s1-s0)*(u-int64(a.Utilization))/int64(b.Utilization-a.Utilization)
			}
		}
		return int64(pts[len(pts)-1].Score) * 10
	}, nil
}
