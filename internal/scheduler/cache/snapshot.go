package cache

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Snapshot is a point-in-time copy of the cache for one scheduling cycle.
// It implements framework.SharedLister.
type Snapshot struct {
	nodeInfoMap  map[string]*framework.NodeInfo
	nodeInfoList []*framework.NodeInfo
	withAffinity []*framework.NodeInfo
	withAnti     []*framework.NodeInfo
}

var _ framework.SharedLister = (*Snapshot)(nil)

// NewEmptySnapshot returns a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodeInfoMap: map[string]*framework.NodeInfo{}}
}

// NewSnapshot builds a snapshot from objects (tests and what-ifs).
func NewSnapshot(pods []*corev1.Pod, nodes []*corev1.Node) *Snapshot {
	s := NewEmptySnapshot()
	for _, n := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(n)
		s.nodeInfoMap[n.Name] = ni
	}
	for _, p := range pods {
		ni := s.nodeInfoMap[p.Spec.NodeName]
		if ni == nil {
			ni = framework.NewNodeInfo()
			s.nodeInfoMap[p.Spec.NodeName] = ni
		}
		ni.AddPodInfo(framework.NewPodInfo(p))
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	s.rebuildList(names)
	return s
}

// NodeInfos implements framework.SharedLister.
func (s *Snapshot) NodeInfos() framework.NodeInfoLister { return s }

// List lists the nodes in the cache's zone-interleaved order.
func (s *Snapshot) List() []*framework.NodeInfo { return s.nodeInfoList }

// HavePodsWithAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo { return s.withAffinity }

// HavePodsWithRequiredAntiAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo { return s.withAnti }

// Get returns one node's info.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	if ni, ok := s.nodeInfoMap[name]; ok && ni.Node() != nil {
		return ni, nil
	}
	return nil, fmt.Errorf("nodeinfo not found for node name %q", name)
}

// NumNodes counts the nodes.
func (s *Snapshot) NumNodes() int { return len(s.nodeInfoList) }

// rebuildList orders nodes round-robin across zones, as upstream's node
// tree does, so that a partial scan of the list still sees every zone.
func (s *Snapshot) rebuildList(order []string) {
	zones := map[string][]*framework.NodeInfo{}
	var zoneOrder []string
	for _, name := range order {
		ni := s.nodeInfoMap[name]
		if ni == nil || ni.Node() == nil {
			continue
		}
		z := zoneOf(ni.Node())
		if _, ok := zones[z]; !ok {
			zoneOrder = append(zoneOrder, z)
		}
		zones[z] = append(zones[z], ni)
	}
	s.nodeInfoList = s.nodeInfoList[:0]
	for i := 0; len(s.nodeInfoList) < len(order); i++ {
		added := false
		for _, z := range zoneOrder {
			if i < len(zones[z]) {
				s.nodeInfoList = append(s.nodeInfoList, zones[z][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	s.rebuildAffinityLists()
}

func (s *Snapshot) rebuildAffinityLists() {
	s.withAffinity, s.withAnti = s.withAffinity[:0], s.withAnti[:0]
	for _, ni := range s.nodeInfoList {
		if len(ni.PodsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.withAnti = append(s.withAnti, ni)
		}
	}
}

// zoneOf is the node's region and zone, the node tree's key.
func zoneOf(n *corev1.Node) string {
	r, z := n.Labels[corev1.LabelTopologyRegion], n.Labels[corev1.LabelTopologyZone]
	if r == "" && z == "" {
		return ""
	}
	return r + ":\x00:" + z
}
