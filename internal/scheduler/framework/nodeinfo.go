package framework

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// NodeInfo is a node with the pods the scheduler counts on it (bound,
// assumed or nominated during a what-if), and the sums plugins need.
type NodeInfo struct {
	node *corev1.Node
	// Copies of the node's hot fields: filters read them for hundreds of
	// nodes per cycle, and the Node objects are scattered in memory.
	name          string
	unschedulable bool
	taints        []corev1.Taint
	labels        map[string]string
	Pods          []*PodInfo
	// PodsWithAffinity have any pod (anti-)affinity term;
	// PodsWithRequiredAntiAffinity have a required anti-affinity term.
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo
	// ScoringAffinity counts pods with required affinity or preferred
	// terms, the ones that score other pods.
	ScoringAffinity int
	UsedPorts       HostPortInfo
	// Requested sums the pods' requests; NonZeroRequested uses the
	// scoring defaults for pods that request no cpu or memory.
	Requested, NonZeroRequested Resource
	Allocatable                 Resource
	// Generation changes on every mutation, for incremental snapshots.
	Generation int64
}

// NewNodeInfo returns an empty NodeInfo holding pods.
func NewNodeInfo(pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{}
	for _, p := range pods {
		n.AddPodInfo(p)
	}
	return n
}

// Node is nil while the node is gone but some of its pods are not.
func (n *NodeInfo) Node() *corev1.Node {
	if n == nil {
		return nil
	}
	return n.node
}

// SetNode sets the node and its allocatable.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.name, n.unschedulable, n.taints, n.labels = node.Name, node.Spec.Unschedulable, node.Spec.Taints, node.Labels
	n.Allocatable = NewResource(node.Status.Allocatable)
}

// RemoveNode forgets the node, keeping its pods.
func (n *NodeInfo) RemoveNode() {
	n.node, n.unschedulable, n.taints, n.labels = nil, false, nil, nil
}

// Name is the node's name.
func (n *NodeInfo) Name() string { return n.name }

// Unschedulable is the node's spec.unschedulable.
func (n *NodeInfo) Unschedulable() bool { return n.unschedulable }

// Taints are the node's spec.taints.
func (n *NodeInfo) Taints() []corev1.Taint { return n.taints }

// Labels are the node's labels.
func (n *NodeInfo) Labels() map[string]string { return n.labels }

// AddPodInfo counts a pod on the node.
func (n *NodeInfo) AddPodInfo(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if pi.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if len(pi.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	if pi.HasScoringAffinity() {
		n.ScoringAffinity++
	}
	n.Requested.Plus(pi.Requests)
	n.NonZeroRequested.Plus(pi.NonZero)
	n.UsedPorts.addPod(pi.Pod, true)
}

// RemovePod stops counting a pod (matched by UID).
func (n *NodeInfo) RemovePod(pod *corev1.Pod) error {
	var removed *PodInfo
	n.Pods, removed = removeByUID(n.Pods, pod)
	if removed == nil {
		return fmt.Errorf("no pod %s/%s on node %q", pod.Namespace, pod.Name, n.name)
	}
	n.PodsWithAffinity, _ = removeByUID(n.PodsWithAffinity, pod)
	n.PodsWithRequiredAntiAffinity, _ = removeByUID(n.PodsWithRequiredAntiAffinity, pod)
	if removed.HasScoringAffinity() {
		n.ScoringAffinity--
	}
	n.Requested.Minus(removed.Requests)
	n.NonZeroRequested.Minus(removed.NonZero)
	n.UsedPorts.addPod(removed.Pod, false)
	return nil
}

// removeByUID swaps the last element in, so order is not kept.
func removeByUID(list []*PodInfo, pod *corev1.Pod) ([]*PodInfo, *PodInfo) {
	for i, p := range list {
		if p.Pod.UID == pod.UID {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last], p
		}
	}
	return list, nil
}

// Clone copies the NodeInfo; PodInfos are shared (they are immutable).
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{
		node:             n.node,
		name:             n.name,
		unschedulable:    n.unschedulable,
		taints:           n.taints,
		labels:           n.labels,
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested.Clone(),
		Allocatable:      n.Allocatable.Clone(),
		Generation:       n.Generation,
		ScoringAffinity:  n.ScoringAffinity,
		UsedPorts:        n.UsedPorts.clone(),
	}
	if len(n.Pods) > 0 {
		c.Pods = append(make([]*PodInfo, 0, len(n.Pods)+1), n.Pods...)
	}
	if len(n.PodsWithAffinity) > 0 {
		c.PodsWithAffinity = append([]*PodInfo(nil), n.PodsWithAffinity...)
	}
	if len(n.PodsWithRequiredAntiAffinity) > 0 {
		c.PodsWithRequiredAntiAffinity = append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...)
	}
	return c
}

// HostPortInfo records the host ports in use: IP -> protocol/port -> count.
type HostPortInfo map[string]map[ProtocolPort]int

// ProtocolPort is a protocol and port number.
type ProtocolPort struct {
	Protocol string
	Port     int32
}

const anyIP = "0.0.0.0"

// HostPorts lists the host ports a pod's containers claim, with the
// defaults (0.0.0.0, TCP) applied.
func HostPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	add := func(cs []corev1.Container, sidecarsOnly bool) {
		for i := range cs {
			if sidecarsOnly && (cs[i].RestartPolicy == nil || *cs[i].RestartPolicy != corev1.ContainerRestartPolicyAlways) {
				continue
			}
			for _, p := range cs[i].Ports {
				if p.HostPort <= 0 {
					continue
				}
				if p.HostIP == "" {
					p.HostIP = anyIP
				}
				if p.Protocol == "" {
					p.Protocol = corev1.ProtocolTCP
				}
				out = append(out, p)
			}
		}
	}
	add(pod.Spec.InitContainers, true)
	add(pod.Spec.Containers, false)
	return out
}

func (h *HostPortInfo) addPod(pod *corev1.Pod, add bool) {
	for _, p := range HostPorts(pod) {
		pp := ProtocolPort{string(p.Protocol), p.HostPort}
		if add {
			if *h == nil {
				*h = HostPortInfo{}
			}
			if (*h)[p.HostIP] == nil {
				(*h)[p.HostIP] = map[ProtocolPort]int{}
			}
			(*h)[p.HostIP][pp]++
			continue
		}
		if m := (*h)[p.HostIP]; m != nil {
			if m[pp]--; m[pp] <= 0 {
				delete(m, pp)
			}
			if len(m) == 0 {
				delete(*h, p.HostIP)
			}
		}
	}
}

// CheckConflict reports whether the port is taken: the same protocol and
// port on the same IP, or on any IP when either side is 0.0.0.0.
func (h HostPortInfo) CheckConflict(ip, protocol string, port int32) bool {
	pp := ProtocolPort{protocol, port}
	if ip == anyIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[ip][pp] > 0 || h[anyIP][pp] > 0
}

func (h HostPortInfo) clone() HostPortInfo {
	if len(h) == 0 {
		return nil
	}
	out := make(HostPortInfo, len(h))
	for ip, m := range h {
		c := make(map[ProtocolPort]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[ip] = c
	}
	return out
}
