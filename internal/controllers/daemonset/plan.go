package daemonset

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// nodeState is one node and the daemon pods that target it.
type nodeState struct {
	name      string
	run, keep bool
	pods      []*corev1.Pod
}

// plan is what one sync does: start pods on nodes, delete pods.
type plan struct {
	create []string
	delete []*corev1.Pod
	// failed are the finished pods among delete (they get an event and
	// a per-node back-off, so a crash-looping node is not hammered).
	failed []*corev1.Pod
}

func (p *plan) remove(pod *corev1.Pod) { p.delete = append(p.delete, pod) }

func (p *plan) deleting(pod *corev1.Pod) bool { return slices.Contains(p.delete, pod) }

// rules are the DaemonSet facts the planning needs.
type rules struct {
	isNew     func(*corev1.Pod) bool
	available func(*corev1.Pod) bool
	surge     bool
	// inBackoff reports a node whose failed pod was deleted too recently.
	inBackoff func(node string) bool
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

// byAge orders scheduled pods first, then oldest first, then by name.
func byAge(a, b *corev1.Pod) int {
	if sa, sb := a.Spec.NodeName != "", b.Spec.NodeName != ""; sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// manage starts a pod on every node that should have one and has none
// (not even one still terminating), deletes pods on nodes that must not
// keep them, finished pods, and duplicates: one pod per node, or with
// surge one old and one new until the new one is available.
func manage(nodes []nodeState, r rules) plan {
	var p plan
	for _, n := range nodes {
		switch {
		case n.run && len(n.pods) == 0:
			p.create = append(p.create, n.name)
		case n.keep:
			var running []*corev1.Pod
			for _, pod := range n.pods {
				switch {
				case pod.DeletionTimestamp != nil:
				case finished(pod):
					if !r.inBackoff(n.name) {
						p.remove(pod)
						p.failed = append(p.failed, pod)
					}
				default:
					running = append(running, pod)
				}
			}
			dedupe(&p, running, r)
		case len(n.pods) > 0:
			for _, pod := range n.pods {
				if pod.DeletionTimestamp == nil {
					p.remove(pod)
				}
			}
		}
	}
	return p
}

func dedupe(p *plan, running []*corev1.Pod, r rules) {
	slices.SortFunc(running, byAge)
	if !r.surge {
		for _, pod := range running[min(1, len(running)):] {
			p.remove(pod)
		}
		return
	}
	var oldest, newest *corev1.Pod // the oldest old and the oldest new pod
	for _, pod := range running {
		switch {
		case r.isNew(pod) && newest == nil:
			newest = pod
		case !r.isNew(pod) && oldest == nil:
			oldest = pod
		default:
			p.remove(pod)
		}
	}
	if newest != nil && oldest != nil && r.available(newest) {
		p.remove(oldest)
	}
}

// budget resolves maxUnavailable and maxSurge against the number of nodes
// that should run a pod, rounding up as upstream does.
func budget(ru *appsv1.RollingUpdateDaemonSet, desired int) (maxUnavailable, maxSurge int) {
	maxUnavailable, maxSurge = 1, 0
	if ru == nil {
		return
	}
	if ru.MaxUnavailable != nil {
		if v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true); err == nil {
			maxUnavailable = v
		}
	}
	if ru.MaxSurge != nil {
		if v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true); err == nil {
			maxSurge = v
		}
	}
	if maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1 // validation forbids it; never stall
	}
	return
}

// rollingUpdate adds to p the replacements of old pods that the budget
// allows. Without surge, old pods are deleted while fewer than
// maxUnavailable nodes lack an available pod (unavailable old pods go
// regardless); with surge, new pods start beside old ones on up to
// maxSurge nodes (and on every node whose old pod is unavailable).
func rollingUpdate(p *plan, nodes []nodeState, r rules, maxUnavailable, maxSurge int) {
	unavailable, surging := 0, 0
	var replace, candidates []*corev1.Pod
	var surgeNow, surgeCandidates []string
	for _, n := range nodes {
		if !n.keep {
			continue
		}
		var news, olds []*corev1.Pod
		for _, pod := range n.pods {
			if pod.DeletionTimestamp != nil || finished(pod) || p.deleting(pod) {
				continue
			}
			if r.isNew(pod) {
				news = append(news, pod)
			} else {
				olds = append(olds, pod)
			}
		}
		if len(news)+len(olds) == 0 {
			continue // manage is creating one, or waits for a terminating pod
		}
		if len(news) > 1 || len(olds) > 1 {
			unavailable++
			surging++
			continue
		}
		switch {
		case len(olds) == 0:
			if !r.available(news[0]) {
				unavailable++
				surging++
			}
		case len(news) == 1:
			// Surging here already; manage deletes the old pod once the
			// new one is available.
			unavailable++
			surging++
		case !r.available(olds[0]):
			unavailable++
			replace = append(replace, olds[0])
			surgeNow = append(surgeNow, n.name)
		default:
			candidates = append(candidates, olds[0])
			surgeCandidates = append(surgeCandidates, n.name)
		}
	}
	if !r.surge {
		p.delete = append(p.delete, replace...)
		p.delete = append(p.delete, candidates[:clamp(maxUnavailable-unavailable, len(candidates))]...)
		return
	}
	p.create = append(p.create, surgeNow...)
	p.create = append(p.create, surgeCandidates[:clamp(maxSurge-surging, len(surgeCandidates))]...)
}

func clamp(n, hi int) int { return max(0, min(n, hi)) }

// status counts the DaemonSet's pods per node, judging each node by its
// oldest (scheduled first) pod that is not a finished one being deleted.
func status(nodes []nodeState, r rules) appsv1.DaemonSetStatus {
	var st appsv1.DaemonSetStatus
	for _, n := range nodes {
		var pods []*corev1.Pod
		for _, pod := range n.pods {
			if !(finished(pod) && pod.DeletionTimestamp != nil) {
				pods = append(pods, pod)
			}
		}
		if !n.run {
			if len(pods) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		slices.SortFunc(pods, byAge)
		pod := pods[0]
		if podcontrol.IsReady(pod) {
			st.NumberReady++
			if r.available(pod) {
				st.NumberAvailable++
			}
		}
		if r.isNew(pod) {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = max(st.DesiredNumberScheduled-st.NumberAvailable, 0)
	return st
}
