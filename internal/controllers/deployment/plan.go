package deployment

import (
	"math"

	appsv1 "k8s.io/api/apps/v1"
)

// The functions in this file decide sizes and touch nothing: the sync
// applies their answers. Sizes are spec.replicas of ReplicaSets.

// newRSTarget is the size the new ReplicaSet may grow to now: for a
// rolling update, up to replicas+maxSurge pods in all; for Recreate, all
// replicas at once.
func newRSTarget(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return replicas(d)
	}
	current := sumSpec(all)
	maxTotal := replicas(d) + maxSurge(d)
	if current >= maxTotal {
		return rsReplicas(newRS)
	}
	up := min(maxTotal-current, replicas(d)-rsReplicas(newRS))
	return rsReplicas(newRS) + max(up, 0)
}

// oldScaleDown plans a rolling update's scale-down of old ReplicaSets
// (old: oldest first is not required): first the old pods that are not
// available anyway, then available ones as far as replicas-maxUnavailable
// available pods allow. It returns the new size of each old ReplicaSet
// that changes, by name.
func oldScaleDown(d *appsv1.Deployment, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) map[string]int32 {
	if sumSpec(old) == 0 {
		return nil
	}
	minAvailable := replicas(d) - maxUnavailable(d)
	newUnavailable := rsReplicas(newRS) - newRS.Status.AvailableReplicas
	budget := sumSpec(all) - minAvailable - newUnavailable
	if budget <= 0 {
		return nil
	}
	sorted := append([]*appsv1.ReplicaSet(nil), old...)
	byCreation(sorted)
	sizes := map[string]int32{}
	size := func(rs *appsv1.ReplicaSet) int32 {
		if n, ok := sizes[rs.Name]; ok {
			return n
		}
		return rsReplicas(rs)
	}
	// Unhealthy old pods first: they would otherwise block the rollout.
	cleaned := int32(0)
	for _, rs := range sorted {
		if cleaned >= budget {
			break
		}
		unhealthy := size(rs) - rs.Status.AvailableReplicas
		if size(rs) == 0 || unhealthy <= 0 {
			continue
		}
		n := min(budget-cleaned, unhealthy)
		sizes[rs.Name] = size(rs) - n
		cleaned += n
	}
	// Then available pods, keeping minAvailable of them. A ReplicaSet
	// whose status has not caught up with a smaller size still counts
	// the pods it is about to delete: count at most its size, or two
	// syncs in a row would both scale it down for the same pods.
	var available int32
	for _, rs := range all {
		available += min(rs.Status.AvailableReplicas, size(rs))
	}
	if available <= minAvailable {
		return sizes
	}
	total, done := available-minAvailable, int32(0)
	for _, rs := range sorted {
		if done >= total {
			break
		}
		if size(rs) == 0 {
			continue
		}
		n := min(size(rs), total-done)
		sizes[rs.Name] = size(rs) - n
		done += n
	}
	return sizes
}

// activeOrLatest is the only ReplicaSet with replicas, or the newest one
// when none has any; nil when several have replicas.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	all := append([]*appsv1.ReplicaSet(nil), old...)
	if newRS != nil {
		all = append(all, newRS)
	}
	act := active(all)
	switch {
	case len(act) == 1:
		return act[0]
	case len(act) > 1 || len(all) == 0:
		return nil
	case newRS != nil:
		return newRS
	}
	byCreation(all)
	return all[len(all)-1]
}

// saturated: rs runs the Deployment's full size, all available.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, DesiredReplicasAnnotation)
	return ok && desired == replicas(d) && rsReplicas(rs) == replicas(d) && rs.Status.AvailableReplicas == replicas(d)
}

// proportionalSizes spreads a change of the Deployment's size over its
// active ReplicaSets in proportion to their sizes (by the max-replicas
// they were last scaled for), so that scaling mid-rollout keeps the
// rollout's ratio. Leftovers go to the largest ReplicaSet (the newer one
// on ties when growing, the older when shrinking).
func proportionalSizes(d *appsv1.Deployment, act []*appsv1.ReplicaSet) ([]*appsv1.ReplicaSet, map[string]int32) {
	allowed := int32(0)
	if replicas(d) > 0 {
		allowed = replicas(d) + maxSurge(d)
	}
	toAdd := allowed - sumSpec(act)
	sorted := append([]*appsv1.ReplicaSet(nil), act...)
	if toAdd != 0 {
		bySize(sorted, toAdd > 0)
	}
	sizes := map[string]int32{}
	added := int32(0)
	for _, rs := range sorted {
		p := proportion(d, rs, toAdd, added)
		sizes[rs.Name] = rsReplicas(rs) + p
		added += p
	}
	if toAdd != added && len(sorted) > 0 {
		first := sorted[0].Name
		sizes[first] = max(sizes[first]+toAdd-added, 0)
	}
	return sorted, sizes
}

// proportion is how many of toAdd pods (added so far) rs takes.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := fraction(d, rs)
	if toAdd > 0 {
		return min(f, toAdd-added)
	}
	return max(f, toAdd-added)
}

func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if replicas(d) == 0 {
		return -rsReplicas(rs)
	}
	target := replicas(d) + maxSurge(d)
	before, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		// Annotation tampered with: fall back to the current size.
		before = d.Status.Replicas
		if before == 0 {
			return 0
		}
	}
	size := float64(rsReplicas(rs)) * float64(target) / float64(before)
	return int32(math.Round(size)) - rsReplicas(rs)
}

// scalingEvent: an active ReplicaSet was sized for another replicas count.
func scalingEvent(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) bool {
	all := append([]*appsv1.ReplicaSet(nil), old...)
	if newRS != nil {
		all = append(all, newRS)
	}
	for _, rs := range active(all) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicas(d) {
			return true
		}
	}
	return false
}

// toClean picks the old ReplicaSets beyond revisionHistoryLimit to
// delete, lowest revision first, sparing any that still has pods.
func toClean(d *appsv1.Deployment, old []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	byRevision(alive)
	var out []*appsv1.ReplicaSet
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}
