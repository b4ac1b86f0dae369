package schedtest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeWrapper builds a node.
type NodeWrapper struct{ corev1.Node }

// MakeNode starts a node allowing 110 pods and nothing else.
func MakeNode() *NodeWrapper {
	n := &NodeWrapper{}
	n.Capacity(map[corev1.ResourceName]string{corev1.ResourcePods: "110"})
	return n
}

// Obj returns the node.
func (n *NodeWrapper) Obj() *corev1.Node { return &n.Node }

// Name sets the name, the UID and the hostname label.
func (n *NodeWrapper) Name(name string) *NodeWrapper {
	n.Node.Name = name
	n.UID = types.UID(name)
	return n.Label(corev1.LabelHostname, name)
}

// Label sets a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[k] = v
	return n
}

// Zone sets the zone label.
func (n *NodeWrapper) Zone(z string) *NodeWrapper { return n.Label(corev1.LabelTopologyZone, z) }

// Capacity sets capacity and allocatable (pods defaults to 110).
func (n *NodeWrapper) Capacity(c map[corev1.ResourceName]string) *NodeWrapper {
	l := list(c)
	if _, ok := l[corev1.ResourcePods]; !ok {
		l[corev1.ResourcePods] = list(map[corev1.ResourceName]string{corev1.ResourcePods: "110"})[corev1.ResourcePods]
	}
	n.Status.Capacity, n.Status.Allocatable = l, l.DeepCopy()
	return n
}

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect corev1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable cordons the node.
func (n *NodeWrapper) Unschedulable() *NodeWrapper { n.Spec.Unschedulable = true; return n }
