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
	withScoring  []*framework.NodeInfo
	// Indexes kept up to date across cycles (index.go).
	matches  map[string]*matchEntry
	anti     map[string]*framework.TermGroup
	antiList []*framework.TermGroup
	domains  map[string]map[string]int
}

var _ framework.SharedLister = (*Snapshot)(nil)

// NewEmptySnapshot returns a snapshot with no nodes.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodeInfoMap: map[string]*framework.NodeInfo{}, anti: map[string]*framework.TermGroup{}}
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
	s.resetIndexes()
}

func (s *Snapshot) rebuildAffinityLists() {
	s.withAffinity, s.withAnti, s.withScoring = s.withAffinity[:0], s.withAnti[:0], s.withScoring[:0]
	for _, ni := range s.nodeInfoList {
		if len(ni.PodsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.withAnti = append(s.withAnti, ni)
		}
		if ni.ScoringAffinity > 0 {
			s.withScoring = append(s.withScoring, ni)
		}
	}
}

// flips records which affinity lists a node enters (+1) or leaves (-1).
type flips [3]int

func affinityFlips(old, cur *framework.NodeInfo) flips {
	flip := func(was, is bool) int {
		switch {
		case !was && is:
			return 1
		case was && !is:
			return -1
		}
		return 0
	}
	return flips{
		flip(len(old.PodsWithAffinity) > 0, len(cur.PodsWithAffinity) > 0),
		flip(len(old.PodsWithRequiredAntiAffinity) > 0, len(cur.PodsWithRequiredAntiAffinity) > 0),
		flip(old.ScoringAffinity > 0, cur.ScoringAffinity > 0),
	}
}

// updateAffinityLists adds or removes one node, instead of rescanning the
// node list for every pod that brings a node its first affinity term.
func (s *Snapshot) updateAffinityLists(ni *framework.NodeInfo, f flips) {
	for i, list := range []*[]*framework.NodeInfo{&s.withAffinity, &s.withAnti, &s.withScoring} {
		switch f[i] {
		case 1:
			*list = append(*list, ni)
		case -1:
			for j, x := range *list {
				if x == ni {
					*list = append((*list)[:j], (*list)[j+1:]...)
					break
				}
			}
		}
	}
}

// HavePodsWithScoringAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithScoringAffinityList() []*framework.NodeInfo { return s.withScoring }

// zoneOf is the node's region and zone, the node tree's key.
func zoneOf(n *corev1.Node) string {
	r, z := n.Labels[corev1.LabelTopologyRegion], n.Labels[corev1.LabelTopologyZone]
	if r == "" && z == "" {
		return ""
	}
	return r + ":\x00:" + z
}
