package statefulset

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// view is one sync's picture of a set: its pods by ordinal.
type view struct {
	set *appsv1.StatefulSet
	// slots are the pods whose ordinal is in range.
	slots map[int]*corev1.Pod
	// condemned are the pods out of range, highest ordinal first.
	condemned []*corev1.Pod
	// current and update name the set's revisions.
	current, update string
	now             time.Time
}

// step is what one sync does.
type step struct {
	create []int // ordinals
	delete []*corev1.Pod
	// failed (recreated) and condemned (scaled away) are subsets of
	// delete that get their own events and claim handling.
	failed, condemned []*corev1.Pod
}

func (s *step) remove(p *corev1.Pod) { s.delete = append(s.delete, p) }

func (v *view) ordered() bool {
	return v.set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
}

func (v *view) healthy(p *corev1.Pod) bool { return healthy(p, v.set.Spec.MinReadySeconds, v.now) }

// partition is the lowest ordinal a RollingUpdate replaces.
func partition(set *appsv1.StatefulSet) int {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0
	}
	return int(*ru.Partition)
}

func rollingUpdate(set *appsv1.StatefulSet) bool {
	return set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType
}

// plan decides the next step. Under OrderedReady it does one thing at a
// time: the lowest missing pod is created only once every lower one is
// healthy, the highest condemned pod goes only once every replica is, and
// nothing moves while a pod it waits for is terminating. Parallel does
// every creation and deletion at once. Either way, a rolling update
// replaces one pod at a time from the highest ordinal down to the
// partition, waiting for each replacement to be healthy.
func plan(v *view) step {
	var s step
	ordered := v.ordered()
	start, n := startOrdinal(v.set), replicas(v.set)
	for o := start; o < start+n; o++ {
		p := v.slots[o]
		switch {
		case p == nil:
			s.create = append(s.create, o)
		case finished(p) && !terminating(p):
			s.remove(p)
			s.failed = append(s.failed, p)
		case v.healthy(p):
			continue
		}
		if ordered {
			return s
		}
	}
	for _, p := range v.condemned {
		if !terminating(p) {
			s.remove(p)
			s.condemned = append(s.condemned, p)
		}
		if ordered {
			return s
		}
	}
	if !rollingUpdate(v.set) {
		return s
	}
	for o := start + n - 1; o >= max(start, partition(v.set)); o-- {
		p := v.slots[o]
		if p == nil || slices.Contains(s.delete, p) {
			return s
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] != v.update && !terminating(p) {
			s.remove(p)
			return s
		}
		if !v.healthy(p) {
			return s
		}
	}
	return s
}

// revisionFor returns which revision a new pod with ordinal runs: the
// current one below the partition of a rolling update, else the update.
func revisionFor(set *appsv1.StatefulSet, ordinal int) (useCurrent bool) {
	return rollingUpdate(set) && ordinal < partition(set)
}

// status counts the set's pods. A finished rolling update makes the
// update revision current.
func status(v *view) appsv1.StatefulSetStatus {
	st := appsv1.StatefulSetStatus{CurrentRevision: v.current, UpdateRevision: v.update}
	count := func(p *corev1.Pod) {
		if p.Status.Phase == "" {
			return
		}
		st.Replicas++
		if runningAndReady(p) {
			st.ReadyReplicas++
			if podcontrol.IsAvailable(p, v.set.Spec.MinReadySeconds, v.now) {
				st.AvailableReplicas++
			}
		}
		if terminating(p) {
			return
		}
		switch rev := p.Labels[appsv1.ControllerRevisionHashLabelKey]; {
		case rev == v.current && rev == v.update:
			st.CurrentReplicas++
			st.UpdatedReplicas++
		case rev == v.current:
			st.CurrentReplicas++
		case rev == v.update:
			st.UpdatedReplicas++
		}
	}
	for _, p := range v.slots {
		count(p)
	}
	for _, p := range v.condemned {
		count(p)
	}
	want := int32(replicas(v.set))
	if rollingUpdate(v.set) && st.UpdatedReplicas == want && st.ReadyReplicas == want && st.Replicas == want {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	return st
}
