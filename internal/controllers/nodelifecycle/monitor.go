package nodelifecycle

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// zoneCount tallies a zone's nodes.
type zoneCount struct{ ready, notReady int }

// monitor is one pass over every node: mark silent nodes Unknown, mark
// their pods not ready, classify zones and queue or remove NoExecute
// taints.
func (c *Controller) monitor(ctx context.Context) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	seen := map[string]bool{}
	counts := map[string]*zoneCount{}
	for i, n := range nodes {
		seen[n.Name] = true
		nodes[i] = c.checkHealth(ctx, n)
		n = nodes[i]
		zc := counts[zoneOf(n)]
		if zc == nil {
			zc = &zoneCount{}
			counts[zoneOf(n)] = zc
		}
		if readyStatus(n) == corev1.ConditionTrue {
			zc.ready++
		} else {
			zc.notReady++
			c.markPodsNotReady(ctx, n)
		}
	}
	for name := range c.health {
		if !seen[name] {
			delete(c.health, name)
			c.recorder.Eventf(&corev1.ObjectReference{Kind: "Node", Name: name, UID: "", APIVersion: "v1"}, corev1.EventTypeNormal,
				"RemovingNode", "Node %s event: Removing Node %s from Controller", name, name)
		}
	}
	c.applyZones(ctx, nodes, counts)
}

// checkHealth records n's heartbeat and marks it Unknown when silent for
// too long. It returns the node as it now is.
func (c *Controller) checkHealth(ctx context.Context, n *corev1.Node) *corev1.Node {
	now := c.now()
	lease, _ := c.leases.Leases(corev1.NamespaceNodeLease).Get(n.Name)
	prev := c.health[n.Name]
	h := observe(prev, n, lease, now)
	c.health[n.Name] = h
	if prev == nil {
		c.recorder.Eventf(n, corev1.EventTypeNormal, "RegisteredNode", "Node %s event: Registered Node %s in Controller", n.Name, n.Name)
	}
	if !h.stale(n, now, c.opts.NodeMonitorGracePeriod, c.opts.NodeStartupGracePeriod) {
		return n
	}
	st, changed := markUnknown(n, metav1.NewTime(now))
	if !changed {
		return n
	}
	upd := n.DeepCopy()
	upd.Status = st
	out, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			c.log.Warn("cannot mark node unknown", "node", n.Name, "err", err)
		}
		return n
	}
	if was := readyStatus(n); was == corev1.ConditionTrue || was == "" {
		c.recorder.Eventf(n, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.Name)
	}
	c.log.Info("node stopped posting status", "node", n.Name, "since", h.probe)
	return out
}

// markPodsNotReady sets Ready=False on the pods of a node that is not
// ready: nothing vouches for them any more.
func (c *Controller) markPodsNotReady(ctx context.Context, n *corev1.Node) {
	objs, _ := c.podIdx.ByIndex(podNodeIndex, n.Name)
	now := metav1.NewTime(c.now())
	for _, o := range objs {
		p := o.(*corev1.Pod)
		i := slices.IndexFunc(p.Status.Conditions, func(pc corev1.PodCondition) bool { return pc.Type == corev1.PodReady })
		if p.Spec.NodeName != n.Name || i < 0 || p.Status.Conditions[i].Status != corev1.ConditionTrue {
			continue
		}
		upd := p.DeepCopy()
		upd.Status.Conditions[i].Status = corev1.ConditionFalse
		upd.Status.Conditions[i].LastTransitionTime = now
		if _, err := c.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				c.log.Warn("cannot mark pod not ready", "pod", p.Namespace+"/"+p.Name, "err", err)
			}
			continue
		}
		c.recorder.Eventf(p, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
}

// applyZones sets each zone's tainting rate from its state and queues,
// swaps or removes NoExecute taints.
func (c *Controller) applyZones(ctx context.Context, nodes []*corev1.Node, counts map[string]*zoneCount) {
	states := map[string]zoneState{}
	for z, zc := range counts {
		states[z] = computeZoneState(zc.ready, zc.notReady, c.opts.UnhealthyZoneThreshold)
		c.tainters.setRate(z, c.rates.zoneRate(states[z], zc.ready+zc.notReady))
	}
	all := allDisrupted(states)
	if all != c.disrupted {
		if all {
			c.log.Warn("controller detected that all Nodes are not-Ready; entering master disruption mode")
			c.tainters.clear()
		} else {
			c.log.Info("controller detected that some Nodes are Ready; exiting master disruption mode")
		}
		c.disrupted = all
	}
	for _, n := range nodes {
		want := wantNoExecute(n)
		if all {
			// Evicting everything would make matters worse: the fault is
			// more likely ours.
			want = ""
		}
		switch {
		case want == "":
			c.tainters.remove(n.Name)
			if hasNoExecute(n.Spec.Taints, corev1.TaintNodeNotReady) || hasNoExecute(n.Spec.Taints, corev1.TaintNodeUnreachable) {
				c.setNoExecute(ctx, n.Name, "")
			}
		case hasNoExecute(n.Spec.Taints, want):
			c.tainters.remove(n.Name)
		case hasNoExecute(n.Spec.Taints, corev1.TaintNodeNotReady) || hasNoExecute(n.Spec.Taints, corev1.TaintNodeUnreachable):
			// Already tainted the other way: swapping evicts no one new.
			c.tainters.remove(n.Name)
			c.setNoExecute(ctx, n.Name, want)
		default:
			c.tainters.add(zoneOf(n), n.Name)
		}
	}
}

// taintPass applies the NoExecute taints whose turn has come.
func (c *Controller) taintPass(ctx context.Context) {
	for _, name := range c.tainters.pop() {
		n, err := c.nodes.Get(name)
		if err != nil {
			continue
		}
		if want := wantNoExecute(n); want != "" {
			c.setNoExecute(ctx, name, want)
		}
	}
}

// setNoExecute leaves key as the node's only NoExecute taint of ours (""
// removes both), re-checking the node's readiness on the live object.
func (c *Controller) setNoExecute(ctx context.Context, name, key string) {
	err := c.updateTaints(ctx, name, func(n *corev1.Node) ([]corev1.Taint, bool) {
		if key != "" && wantNoExecute(n) != key {
			return nil, false
		}
		now := metav1.NewTime(c.now())
		out := withNoExecute(n.Spec.Taints, key, &corev1.Taint{Key: key, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now})
		return out, !slices.EqualFunc(out, n.Spec.Taints, func(a, b corev1.Taint) bool { return a.MatchTaint(&b) })
	})
	if err != nil {
		c.log.Warn("cannot update NoExecute taints", "node", name, "err", err)
		return
	}
	if key != "" {
		c.log.Info("node tainted for eviction", "node", name, "taint", key)
	}
}
