package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// heartbeat is what a node agent renews: its Ready condition's heartbeat
// and its Lease.
type heartbeat struct {
	status metav1.Time
	lease  metav1.MicroTime
}

func heartbeatOf(n *corev1.Node, l *coordinationv1.Lease) heartbeat {
	var hb heartbeat
	if c := condition(n, corev1.NodeReady); c != nil {
		hb.status = c.LastHeartbeatTime
	}
	if l != nil && l.Spec.RenewTime != nil {
		hb.lease = *l.Spec.RenewTime
	}
	return hb
}

// health is when this controller last saw a node's heartbeat change, on
// its own clock: the agent's clock may be skewed, so its timestamps only
// tell whether something changed.
type health struct {
	hb    heartbeat
	probe time.Time
}

// observe updates h with the current heartbeat and returns it (a new
// entry for a node seen for the first time).
func observe(h *health, n *corev1.Node, l *coordinationv1.Lease, now time.Time) *health {
	hb := heartbeatOf(n, l)
	if h == nil {
		h = &health{hb: hb, probe: now}
		if condition(n, corev1.NodeReady) == nil && l == nil {
			// Never posted anything: the startup grace counts from
			// registration, as far as that lies within our own watch.
			h.probe = n.CreationTimestamp.Time
		}
		return h
	}
	if !hb.status.Equal(&h.hb.status) || !hb.lease.Equal(&h.hb.lease) {
		h.hb, h.probe = hb, now
	}
	return h
}

// stale reports whether the node has been silent for longer than its
// grace period: grace for a node that reported readiness, startup for one
// that never did.
func (h *health) stale(n *corev1.Node, now time.Time, grace, startup time.Duration) bool {
	g := grace
	if condition(n, corev1.NodeReady) == nil {
		g = startup
	}
	return now.After(h.probe.Add(g))
}

// unknownConditions are set to Unknown on a silent node.
var unknownConditions = []corev1.NodeConditionType{
	corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure,
}

// markUnknown returns n's status with the node agent's conditions set to
// Unknown, as upstream words it, and whether anything changed.
func markUnknown(n *corev1.Node, now metav1.Time) (corev1.NodeStatus, bool) {
	st := *n.Status.DeepCopy()
	changed := false
	for _, t := range unknownConditions {
		c := condition(&corev1.Node{Status: st}, t)
		if c == nil {
			st.Conditions = append(st.Conditions, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: "NodeStatusNeverUpdated",
				Message: "Kubelet never posted node status.", LastHeartbeatTime: n.CreationTimestamp, LastTransitionTime: now,
			})
			changed = true
			continue
		}
		if c.Status == corev1.ConditionUnknown {
			continue
		}
		for i := range st.Conditions {
			if st.Conditions[i].Type == t {
				st.Conditions[i].Status = corev1.ConditionUnknown
				st.Conditions[i].Reason = "NodeStatusUnknown"
				st.Conditions[i].Message = "Kubelet stopped posting node status."
				st.Conditions[i].LastTransitionTime = now
			}
		}
		changed = true
	}
	return st, changed
}
