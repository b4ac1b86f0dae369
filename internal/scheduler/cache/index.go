package cache

import (
	"github.com/navarch/navarch/internal/scheduler/framework"
)

// maxMatchEntries bounds the shared term counts; past it they are dropped
// and rebuilt on demand (a cluster rarely has that many distinct terms).
const maxMatchEntries = 256

// matchEntry is the shared count of pods one term selects.
type matchEntry struct {
	term            framework.AffinityTerm
	skipTerminating bool
	framework.TermCounts
}

func (e *matchEntry) apply(ni *framework.NodeInfo, sign int64) {
	node := ni.Node()
	if node == nil {
		return
	}
	v, ok := node.Labels[e.term.TopologyKey]
	if !ok {
		return
	}
	for _, p := range ni.Pods {
		if e.skipTerminating && p.Pod.DeletionTimestamp != nil {
			continue
		}
		if e.term.Matches(p.Pod, nil) {
			addCount(&e.TermCounts, v, sign)
		}
	}
}

func addCount(c *framework.TermCounts, v string, n int64) {
	if c.Counts[v] += n; c.Counts[v] == 0 {
		delete(c.Counts, v)
	}
	c.Total += n
}

// PodsMatching implements framework.NodeInfoLister. A term seen for the
// first time costs one pass over the pods; afterwards each snapshot update
// adjusts its counts for the changed nodes only, so that pods sharing
// terms (replicas of one workload) do not rescan the cluster every cycle.
func (s *Snapshot) PodsMatching(term *framework.AffinityTerm, skipTerminating bool) *framework.TermCounts {
	key := term.Signature
	if skipTerminating {
		key += "|live"
	}
	if e, ok := s.matches[key]; ok {
		return &e.TermCounts
	}
	if len(s.matches) >= maxMatchEntries {
		clear(s.matches)
	}
	e := &matchEntry{term: *term, skipTerminating: skipTerminating, TermCounts: framework.TermCounts{Counts: map[string]int64{}}}
	for _, ni := range s.nodeInfoList {
		e.apply(ni, 1)
	}
	if s.matches == nil {
		s.matches = map[string]*matchEntry{}
	}
	s.matches[key] = e
	return &e.TermCounts
}

// RequiredAntiAffinityGroups implements framework.NodeInfoLister.
func (s *Snapshot) RequiredAntiAffinityGroups() []*framework.TermGroup {
	if s.antiList == nil {
		s.antiList = make([]*framework.TermGroup, 0, len(s.anti))
		for _, g := range s.anti {
			s.antiList = append(s.antiList, g)
		}
	}
	return s.antiList
}

func (s *Snapshot) applyAnti(ni *framework.NodeInfo, sign int64) {
	node := ni.Node()
	if node == nil {
		return
	}
	for _, p := range ni.PodsWithRequiredAntiAffinity {
		for i := range p.RequiredAntiAffinityTerms {
			t := &p.RequiredAntiAffinityTerms[i]
			v, ok := node.Labels[t.TopologyKey]
			if !ok {
				continue
			}
			g := s.anti[t.Signature]
			if g == nil {
				g = &framework.TermGroup{Term: *t, TermCounts: framework.TermCounts{Counts: map[string]int64{}}}
				s.anti[t.Signature] = g
				s.antiList = nil
			}
			addCount(&g.TermCounts, v, sign)
			if g.Total == 0 {
				delete(s.anti, t.Signature)
				s.antiList = nil
			}
		}
	}
}

// Domains implements framework.NodeInfoLister.
func (s *Snapshot) Domains(key string) map[string]int {
	if d, ok := s.domains[key]; ok {
		return d
	}
	d := map[string]int{}
	for _, ni := range s.nodeInfoList {
		if v, ok := ni.Node().Labels[key]; ok {
			d[v]++
		}
	}
	if s.domains == nil {
		s.domains = map[string]map[string]int{}
	}
	s.domains[key] = d
	return d
}

func (s *Snapshot) applyDomains(ni *framework.NodeInfo, sign int) {
	node := ni.Node()
	if node == nil {
		return
	}
	for key, d := range s.domains {
		if v, ok := node.Labels[key]; ok {
			if d[v] += sign; d[v] == 0 {
				delete(d, v)
			}
		}
	}
}

// applyChange moves the indexes from old to cur for one node that stays
// in the list.
func (s *Snapshot) applyChange(old, cur *framework.NodeInfo) {
	for _, e := range s.matches {
		e.apply(old, -1)
		e.apply(cur, 1)
	}
	s.applyAnti(old, -1)
	s.applyAnti(cur, 1)
	s.applyDomains(old, -1)
	s.applyDomains(cur, 1)
}

// resetIndexes rebuilds what must be exact (the anti-affinity groups) and
// drops what is rebuilt on demand, after the node list changed.
func (s *Snapshot) resetIndexes() {
	clear(s.matches)
	clear(s.domains)
	s.anti, s.antiList = map[string]*framework.TermGroup{}, nil
	for _, ni := range s.withAnti {
		s.applyAnti(ni, 1)
	}
}
