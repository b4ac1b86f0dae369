package cache

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Cache holds nodes and the pods counted on them. It is safe for
// concurrent use.
type Cache struct {
	mu    sync.Mutex
	nodes map[string]*framework.NodeInfo
	// order is the nodes' arrival order, for a stable node list.
	order []string
	pods  map[types.UID]*podState
	// dirty names the nodes changed since the last snapshot; listChanged
	// says the set of nodes or their zones changed.
	dirty       map[string]struct{}
	listChanged bool
	generation  int64
}

type podState struct {
	info *framework.PodInfo
	// assumed: placed by this scheduler, binding not yet seen in a watch.
	assumed         bool
	bindingFinished bool
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*framework.NodeInfo{}, pods: map[types.UID]*podState{}, dirty: map[string]struct{}{}}
}

// nodeFor returns the node's info, creating a placeholder (no Node yet)
// for pods that arrive before their node.
func (c *Cache) nodeFor(name string) *framework.NodeInfo {
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	return ni
}

func (c *Cache) touch(name string) {
	c.generation++
	if ni := c.nodes[name]; ni != nil {
		ni.Generation = c.generation
	}
	c.dirty[name] = struct{}{}
}

func (c *Cache) addPod(pi *framework.PodInfo) {
	c.nodeFor(pi.Pod.Spec.NodeName).AddPodInfo(pi)
	c.touch(pi.Pod.Spec.NodeName)
}

func (c *Cache) removePod(pod *corev1.Pod) error {
	ni, ok := c.nodes[pod.Spec.NodeName]
	if !ok {
		return fmt.Errorf("node %q of pod %s/%s is not in the cache", pod.Spec.NodeName, pod.Namespace, pod.Name)
	}
	if err := ni.RemovePod(pod); err != nil {
		return err
	}
	c.touch(pod.Spec.NodeName)
	if ni.Node() == nil && len(ni.Pods) == 0 {
		delete(c.nodes, pod.Spec.NodeName)
	}
	return nil
}

// AssumePod counts a pod on pi.Pod.Spec.NodeName before its binding is
// confirmed.
func (c *Cache) AssumePod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pi.Pod.UID]; ok {
		return fmt.Errorf("pod %s/%s is already in the cache", pi.Pod.Namespace, pi.Pod.Name)
	}
	c.addPod(pi)
	c.pods[pi.Pod.UID] = &podState{info: pi, assumed: true}
	return nil
}

// FinishBinding records that the binding request succeeded.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		ps.bindingFinished = true
	}
}

// ForgetPod undoes AssumePod after a failed binding.
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok || !ps.assumed {
		return fmt.Errorf("pod %s/%s is not assumed", pod.Namespace, pod.Name)
	}
	delete(c.pods, pod.UID)
	return c.removePod(ps.info.Pod)
}

// AddPod counts a bound pod seen in a watch. An assumed pod is confirmed;
// its assumed copy stays when nothing the plugins read differs, which
// spares a snapshot copy per binding.
func (c *Cache) AddPod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pi.Pod.UID]
	if !ok {
		c.addPod(pi)
		c.pods[pi.Pod.UID] = &podState{info: pi}
		return nil
	}
	wasAssumed := ps.assumed
	ps.assumed = false
	if wasAssumed && !relevantChange(ps.info.Pod, pi.Pod) {
		return nil
	}
	return c.replace(ps, pi)
}

// UpdatePod applies a change of a bound pod.
func (c *Cache) UpdatePod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pi.Pod.UID]
	if !ok {
		c.addPod(pi)
		c.pods[pi.Pod.UID] = &podState{info: pi}
		return nil
	}
	ps.assumed = false
	if !relevantChange(ps.info.Pod, pi.Pod) {
		return nil
	}
	return c.replace(ps, pi)
}

func (c *Cache) replace(ps *podState, pi *framework.PodInfo) error {
	if err := c.removePod(ps.info.Pod); err != nil {
		return err
	}
	ps.info = pi
	c.addPod(pi)
	return nil
}

// relevantChange reports a difference any plugin reads: node, labels,
// deletion, requests, ports, affinity, priority or nomination.
func relevantChange(old, cur *corev1.Pod) bool {
	if old == cur {
		return false
	}
	if old.Spec.NodeName != cur.Spec.NodeName || !maps.Equal(old.Labels, cur.Labels) ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		framework.PodPriority(old) != framework.PodPriority(cur) || old.Status.StartTime.Equal(cur.Status.StartTime) == false {
		return true
	}
	// Spec changes of a bound pod are rare (resize, tolerations); compare
	// what plugins read rather than deep-equal the spec.
	return !slices.EqualFunc(old.Spec.Containers, cur.Spec.Containers, sameContainer) ||
		!slices.EqualFunc(old.Spec.InitContainers, cur.Spec.InitContainers, sameContainer) ||
		old.Spec.Affinity != cur.Spec.Affinity && !affinityEqual(old.Spec.Affinity, cur.Spec.Affinity)
}

func sameContainer(a, b corev1.Container) bool {
	return a.Name == b.Name && requestsEqual(a.Resources.Requests, b.Resources.Requests) && slices.Equal(a.Ports, b.Ports)
}

func requestsEqual(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

func affinityEqual(a, b *corev1.Affinity) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.String() == b.String()
}

// RemovePod forgets a pod that was deleted or left its node.
func (c *Cache) RemovePod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return nil
	}
	delete(c.pods, pod.UID)
	return c.removePod(ps.info.Pod)
}

// IsAssumedPod reports a pod assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// GetPod returns the cached copy of a pod.
func (c *Cache) GetPod(uid types.UID) (*corev1.Pod, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[uid]; ok {
		return ps.info.Pod, true
	}
	return nil, false
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok || ni.Node() == nil {
		c.order = append(c.order, node.Name)
		c.listChanged = true
	} else if zoneOf(ni.Node()) != zoneOf(node) {
		c.listChanged = true
	}
	c.nodeFor(node.Name).SetNode(node)
	c.touch(node.Name)
}

// UpdateNode is AddNode.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode forgets a node; pods still bound to it stay counted on a
// placeholder until they go, as upstream's cache does.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	ni.RemoveNode()
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
	c.order = slices.DeleteFunc(c.order, func(n string) bool { return n == node.Name })
	c.listChanged = true
	c.dirty[node.Name] = struct{}{}
}

// Counts returns the numbers of nodes and pods, for tests and logs.
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ps := range c.pods {
		if ps.assumed {
			assumed++
		}
	}
	return len(c.order), len(c.pods), assumed
}

// maxReusedDirty is the largest dirty set cleared for reuse rather than
// replaced.
const maxReusedDirty = 64

// UpdateSnapshot brings s up to date by copying only the nodes changed
// since the previous call. s must only be used by one goroutine.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	listChanged := c.listChanged
	for name := range c.dirty {
		ni, old := c.nodes[name], s.nodeInfoMap[name]
		if ni == nil || ni.Node() == nil {
			if old != nil {
				delete(s.nodeInfoMap, name)
				listChanged = true
			}
			continue
		}
		clone := ni.Clone()
		if old == nil {
			s.nodeInfoMap[name] = clone
			listChanged = true
			continue
		}
		if zoneOf(old.Node()) != zoneOf(clone.Node()) {
			listChanged = true
		}
		if !listChanged {
			s.applyChange(old, clone)
		}
		flips := affinityFlips(old, clone)
		// In place: the node list holds these pointers.
		*old = *clone
		if !listChanged {
			s.updateAffinityLists(old, flips)
		}
	}
	// A map keeps the capacity of its largest size, and ranging over or
	// clearing it costs that capacity: after the burst of thousands of
	// nodes registering, every cycle would walk thousands of empty slots.
	if len(c.dirty) > maxReusedDirty {
		c.dirty = map[string]struct{}{}
	} else {
		clear(c.dirty)
	}
	c.listChanged = false
	if listChanged {
		s.rebuildList(c.order)
	}
}
