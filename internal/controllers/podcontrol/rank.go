package podcontrol

import (
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DeletionCostAnnotation lets users tell controllers which pods to delete
// first when scaling down: lower cost goes first (int32, default 0).
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// LessValuable reports whether pod a should be deleted before pod b when
// scaling down. The order is upstream's: unscheduled before scheduled;
// Pending before Unknown before Running; not ready before ready; lower
// pod-deletion-cost first; higher rank first (callers rank pods by how many
// siblings share their node, so doubled-up pods go first); ready for less
// time first; more container restarts first; newer first.
func LessValuable(a, b *corev1.Pod, rankA, rankB int) bool {
	if sa, sb := a.Spec.NodeName != "", b.Spec.NodeName != ""; sa != sb {
		return !sa
	}
	if pa, pb := phaseOrder(a.Status.Phase), phaseOrder(b.Status.Phase); pa != pb {
		return pa < pb
	}
	if ra, rb := IsReady(a), IsReady(b); ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if rankA != rankB {
		return rankA > rankB
	}
	if IsReady(a) && IsReady(b) {
		ta, tb := readyTime(a), readyTime(b)
		if !ta.Equal(tb) {
			return afterOrZero(ta, tb)
		}
	}
	if ra, rb := maxRestarts(a), maxRestarts(b); ra != rb {
		return ra > rb
	}
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return afterOrZero(ta, tb)
	}
	return false
}

// SortForDeletion sorts pods so that the least valuable come first. ranks
// is nil or parallel to pods (see LessValuable) and is reordered with them.
func SortForDeletion(pods []*corev1.Pod, ranks []int) {
	if ranks == nil {
		ranks = make([]int, len(pods))
	}
	sort.Stable(ranked{pods, ranks})
}

// RanksByNode ranks each pod by how many of related (the pods of the
// owner and its siblings, e.g. every ReplicaSet of a Deployment) run on
// the same node, so that scaling down spreads what remains.
func RanksByNode(pods, related []*corev1.Pod) []int {
	onNode := map[string]int{}
	for _, p := range related {
		if p.Spec.NodeName != "" && IsActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranks := make([]int, len(pods))
	for i, p := range pods {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	return ranks
}

type ranked struct {
	pods  []*corev1.Pod
	ranks []int
}

func (r ranked) Len() int { return len(r.pods) }
func (r ranked) Less(i, j int) bool {
	return LessValuable(r.pods[i], r.pods[j], r.ranks[i], r.ranks[j])
}
func (r ranked) Swap(i, j int) {
	r.pods[i], r.pods[j] = r.pods[j], r.pods[i]
	r.ranks[i], r.ranks[j] = r.ranks[j], r.ranks[i]
}

func phaseOrder(p corev1.PodPhase) int {
	switch p {
	case corev1.PodPending:
		return 0
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 3
}

func deletionCost(p *corev1.Pod) int32 {
	v, ok := p.Annotations[DeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0 // invalid costs are refused by validation; treat as default
	}
	return int32(n)
}

func readyTime(p *corev1.Pod) time.Time {
	if c := ReadyCondition(p); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func maxRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n = max(n, s.RestartCount)
	}
	return n
}

// afterOrZero orders an unknown time first, then the later time first.
func afterOrZero(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero()
	}
	return a.After(b)
}
