package nodelifecycle

import (
	corev1 "k8s.io/api/core/v1"
)

// zoneState is upstream's classification of a zone's health.
type zoneState string

const (
	stateInitial           zoneState = "Initial"
	stateNormal            zoneState = "Normal"
	statePartialDisruption zoneState = "PartialDisruption"
	stateFullDisruption    zoneState = "FullDisruption"
)

// zoneOf keys a node by its region and zone labels.
func zoneOf(n *corev1.Node) string {
	region, zone := n.Labels[corev1.LabelTopologyRegion], n.Labels[corev1.LabelTopologyZone]
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// computeZoneState classifies a zone from its nodes' readiness: fully
// disrupted when no node is ready, partially when more than two nodes and
// at least unhealthyThreshold of them are not ready.
func computeZoneState(ready, notReady int, unhealthyThreshold float64) zoneState {
	switch {
	case ready == 0 && notReady > 0:
		return stateFullDisruption
	case notReady > 2 && float64(notReady)/float64(notReady+ready) >= unhealthyThreshold:
		return statePartialDisruption
	}
	return stateNormal
}

// rates are the eviction rates of the options.
type rates struct {
	normal, secondary float64
	largeCluster      int
}

// zoneRate is the NoExecute tainting rate of a zone of size nodes in
// state s. A partly disrupted zone slows down, to the secondary rate if it
// is large and to a stop if it is small; a fully disrupted one keeps the
// normal rate (unless every zone is down, which the caller handles).
func (r rates) zoneRate(s zoneState, size int) float64 {
	if s == statePartialDisruption {
		if size > r.largeCluster {
			return r.secondary
		}
		return 0
	}
	return r.normal
}

// allDisrupted reports whether every zone is fully disrupted, which
// upstream reads as the controller being cut off rather than the nodes.
func allDisrupted(states map[string]zoneState) bool {
	if len(states) == 0 {
		return false
	}
	for _, s := range states {
		if s != stateFullDisruption {
			return false
		}
	}
	return true
}
