package queue

import (
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Nominator records which node preemption nominated each pod to, so that
// lower-priority pods leave the room to it. It is safe for concurrent use.
type Nominator struct {
	// count lets the filter loop skip the lock when nothing is nominated,
	// which is nearly always.
	count  atomic.Int64
	mu     sync.RWMutex
	byNode map[string][]*framework.PodInfo
	byUID  map[types.UID]string
}

// NewNominator returns an empty nominator.
func NewNominator() *Nominator {
	return &Nominator{byNode: map[string][]*framework.PodInfo{}, byUID: map[types.UID]string{}}
}

// Add nominates pi to node (or to its status.nominatedNodeName when node
// is empty); an empty result removes any nomination.
func (n *Nominator) Add(pi *framework.PodInfo, node string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delete(pi.Pod.UID)
	if node == "" {
		node = pi.Pod.Status.NominatedNodeName
	}
	if node == "" || pi.Pod.Spec.NodeName != "" {
		return
	}
	n.byUID[pi.Pod.UID] = node
	n.byNode[node] = append(n.byNode[node], pi)
	n.count.Add(1)
}

// Delete removes the pod's nomination.
func (n *Nominator) Delete(uid types.UID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delete(uid)
}

func (n *Nominator) delete(uid types.UID) {
	node, ok := n.byUID[uid]
	if !ok {
		return
	}
	delete(n.byUID, uid)
	n.count.Add(-1)
	list := n.byNode[node]
	for i, p := range list {
		if p.Pod.UID == uid {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(n.byNode, node)
	} else {
		n.byNode[node] = list
	}
}

// Update replaces the pod object, keeping a nomination the scheduler made
// when the update does not carry it yet.
func (n *Nominator) Update(old, cur *framework.PodInfo) {
	n.mu.Lock()
	node := n.byUID[old.Pod.UID]
	n.mu.Unlock()
	if cur.Pod.Status.NominatedNodeName != "" || old.Pod.Status.NominatedNodeName != "" {
		node = ""
	}
	n.Add(cur, node)
}

// NominatedPodsForNode implements framework.PodNominator.
func (n *Nominator) NominatedPodsForNode(node string) []*framework.PodInfo {
	if n.count.Load() == 0 {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if len(n.byNode[node]) == 0 {
		return nil
	}
	return append([]*framework.PodInfo(nil), n.byNode[node]...)
}

// HasNominatedPods implements framework.PodNominator.
func (n *Nominator) HasNominatedPods() bool { return n.count.Load() > 0 }

// NominatedNode returns a pod's nominated node.
func (n *Nominator) NominatedNode(uid types.UID) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.byUID[uid]
}
