package defaultpreemption

import (
	"context"
	"math"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// selectVictims finds the fewest, least important lower-priority pods on
// the node whose removal lets pod fit: it removes them all, checks the pod
// fits, then gives back as many as still leave room -- the most important
// first, and pods protected by a PodDisruptionBudget before the others.
func (p *DefaultPreemption) selectVictims(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, orig *framework.NodeInfo) ([]*framework.PodInfo, int, *framework.Status) {
	ni, st := orig.Clone(), state.Clone()
	prio := framework.PodPriority(pod)
	var potential []*framework.PodInfo
	for _, e := range ni.Pods {
		if framework.PodPriority(e.Pod) < prio {
			potential = append(potential, e)
		}
	}
	if len(potential) == 0 {
		return nil, 0, framework.NewStatus(framework.UnschedulableAndUnresolvable, msgNoVictims)
	}
	for _, v := range potential {
		if err := ni.RemovePod(v.Pod); err != nil {
			return nil, 0, framework.AsStatus(err)
		}
		if s := p.h.RunPreFilterExtensionRemovePod(ctx, st, pod, v, ni); !s.IsSuccess() {
			return nil, 0, s
		}
	}
	if s := p.h.RunFilterPluginsWithNominatedPods(ctx, st, pod, ni); !s.IsSuccess() {
		return nil, 0, s
	}
	sort.SliceStable(potential, func(i, j int) bool { return moreImportant(potential[i].Pod, potential[j].Pod) })
	violating, ok := p.splitByBudget(potential)
	var victims []*framework.PodInfo
	reprieve := func(v *framework.PodInfo) (bool, *framework.Status) {
		ni.AddPodInfo(v)
		if s := p.h.RunPreFilterExtensionAddPod(ctx, st, pod, v, ni); !s.IsSuccess() {
			return false, s
		}
		if p.h.RunFilterPluginsWithNominatedPods(ctx, st, pod, ni).IsSuccess() {
			return true, nil
		}
		if err := ni.RemovePod(v.Pod); err != nil {
			return false, framework.AsStatus(err)
		}
		victims = append(victims, v)
		return false, p.h.RunPreFilterExtensionRemovePod(ctx, st, pod, v, ni)
	}
	numViolating := 0
	for _, v := range violating {
		kept, s := reprieve(v)
		if !s.IsSuccess() {
			return nil, 0, s
		}
		if !kept {
			numViolating++
		}
	}
	for _, v := range ok {
		if _, s := reprieve(v); !s.IsSuccess() {
			return nil, 0, s
		}
	}
	return victims, numViolating, nil
}

// moreImportant: higher priority, then the one running longer.
func moreImportant(a, b *corev1.Pod) bool {
	pa, pb := framework.PodPriority(a), framework.PodPriority(b)
	if pa != pb {
		return pa > pb
	}
	return framework.PodStartTime(a).Before(framework.PodStartTime(b))
}

// splitByBudget separates the pods whose eviction would exceed a matching
// budget's disruptionsAllowed, counting evictions against each budget in
// order.
func (p *DefaultPreemption) splitByBudget(pods []*framework.PodInfo) (violating, ok []*framework.PodInfo) {
	var pdbs []*policyv1.PodDisruptionBudget
	if p.pdbs != nil {
		pdbs, _ = p.pdbs.List(labels.Everything())
	}
	if len(pdbs) == 0 {
		return nil, pods
	}
	allowed := make([]int32, len(pdbs))
	sels := make([]labels.Selector, len(pdbs))
	for i, b := range pdbs {
		allowed[i] = b.Status.DisruptionsAllowed
		if s, err := metav1.LabelSelectorAsSelector(b.Spec.Selector); err == nil && !s.Empty() {
			sels[i] = s
		}
	}
	for _, v := range pods {
		bad := false
		for i, b := range pdbs {
			if sels[i] == nil || b.Namespace != v.Pod.Namespace || !sels[i].Matches(labels.Set(v.Pod.Labels)) {
				continue
			}
			// A pod the budget already counts as disrupted costs nothing more.
			if _, gone := b.Status.DisruptedPods[v.Pod.Name]; gone {
				continue
			}
			if allowed[i]--; allowed[i] < 0 {
				bad = true
			}
		}
		if bad {
			violating = append(violating, v)
		} else {
			ok = append(ok, v)
		}
	}
	return violating, ok
}

// pickCandidate applies upstream's criteria in order: fewest budget
// violations, lowest highest-priority victim, lowest sum of priorities,
// fewest victims, and the latest start among the highest-priority
// victims (evict the newest work); then the first found.
func pickCandidate(cs []candidate) candidate {
	best := 0
	for i := 1; i < len(cs); i++ {
		if better(&cs[i], &cs[best]) {
			best = i
		}
	}
	return cs[best]
}

func better(a, b *candidate) bool {
	if a.pdbViolating != b.pdbViolating {
		return a.pdbViolating < b.pdbViolating
	}
	if ha, hb := highest(a.victims), highest(b.victims); ha != hb {
		return ha < hb
	}
	if sa, sb := prioritySum(a.victims), prioritySum(b.victims); sa != sb {
		return sa < sb
	}
	if len(a.victims) != len(b.victims) {
		return len(a.victims) < len(b.victims)
	}
	return earliestOfHighest(a.victims).After(earliestOfHighest(b.victims))
}

func highest(vs []*framework.PodInfo) int32 {
	h := int32(math.MinInt32)
	for _, v := range vs {
		h = max(h, framework.PodPriority(v.Pod))
	}
	return h
}

// prioritySum offsets each priority so that negative ones still add cost.
func prioritySum(vs []*framework.PodInfo) int64 {
	var s int64
	for _, v := range vs {
		s += int64(framework.PodPriority(v.Pod)) + math.MaxInt32 + 1
	}
	return s
}

func earliestOfHighest(vs []*framework.PodInfo) time.Time {
	h := highest(vs)
	var t time.Time
	for _, v := range vs {
		if framework.PodPriority(v.Pod) != h {
			continue
		}
		if st := framework.PodStartTime(v.Pod); t.IsZero() || st.Before(t) {
			t = st
		}
	}
	return t
}
