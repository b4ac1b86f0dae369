package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// noIndex marks a pod without a valid completion index.
const noIndex = -1

// indexSet is a set of completion indexes in the interval form of
// status.completedIndexes ("1,3-5,7").
type indexSet map[int]bool

// parseIndexes reads status.completedIndexes, keeping the indexes below
// completions and ignoring malformed parts (the controller rewrites the
// field from what it parsed).
func parseIndexes(s string, completions int) indexSet {
	out := indexSet{}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := max(first, 0); i <= last && i < completions; i++ {
			out[i] = true
		}
	}
	return out
}

// String formats the set as intervals, lowest first.
func (s indexSet) String() string {
	idx := make([]int, 0, len(s))
	for i := range s {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if i == j {
			fmt.Fprintf(&b, "%d", idx[i])
		} else {
			fmt.Fprintf(&b, "%d-%d", idx[i], idx[j])
		}
		i = j + 1
	}
	return b.String()
}

// podIndex is the completion index of a pod of an Indexed Job, or noIndex.
func podIndex(p *corev1.Pod, completions int) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 || i >= completions {
		return noIndex
	}
	return i
}

// missingIndexes returns up to n indexes below completions that have
// neither succeeded nor an active pod, lowest first.
func missingIndexes(done indexSet, active []*corev1.Pod, completions, n int) []int {
	busy := map[int]bool{}
	for _, p := range active {
		busy[podIndex(p, completions)] = true
	}
	var out []int
	for i := 0; i < completions && len(out) < n; i++ {
		if !done[i] && !busy[i] {
			out = append(out, i)
		}
	}
	return out
}

// redundantIndexed returns the active pods of an Indexed Job that must go:
// those without a valid index, those whose index already succeeded, and
// all but one (the first in order) per index.
func redundantIndexed(done indexSet, active []*corev1.Pod, completions int) []*corev1.Pod {
	var out []*corev1.Pod
	seen := map[int]bool{}
	for _, p := range active {
		i := podIndex(p, completions)
		if i == noIndex || done[i] || seen[i] {
			out = append(out, p)
			continue
		}
		seen[i] = true
	}
	return out
}

// annotationCount reads a non-negative count annotation (0 if absent or
// malformed).
func annotationCount(p *corev1.Pod, key string) int {
	n, err := strconv.Atoi(p.Annotations[key])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// failsIndex reports whether a failed pod of a Job with
// backoffLimitPerIndex fails its index: the pod failure policy says
// FailIndex, or the index's counted failures, this one included, exceed
// the limit. An ignored failure never does.
func failsIndex(j *batchv1.Job, p *corev1.Pod, action batchv1.PodFailurePolicyAction) bool {
	switch action {
	case batchv1.PodFailurePolicyActionFailIndex:
		return true
	case batchv1.PodFailurePolicyActionIgnore:
		return false
	}
	return annotationCount(p, batchv1.JobIndexFailureCountAnnotation)+1 > int(*j.Spec.BackoffLimitPerIndex)
}

// indexFailureCounts computes, per index, the failure counts a new pod of
// that index carries: the highest among the index's failed pods, each
// pod's own failure added (to the ignored count if the pod failure policy
// ignored it).
func indexFailureCounts(j *batchv1.Job, pods []*corev1.Pod, completions int) (failed, ignored map[int]int) {
	failed, ignored = map[int]int{}, map[int]int{}
	for _, p := range pods {
		i := podIndex(p, completions)
		if i == noIndex || !isFailed(j, p) {
			continue
		}
		f := annotationCount(p, batchv1.JobIndexFailureCountAnnotation)
		ig := annotationCount(p, batchv1.JobIndexIgnoredFailureCountAnnotation)
		if ignoredFailure(j, p) {
			ig++
		} else {
			f++
		}
		failed[i], ignored[i] = max(failed[i], f), max(ignored[i], ig)
	}
	return failed, ignored
}

// union is the set of indexes in a or b.
func union(a, b indexSet) indexSet {
	if len(b) == 0 {
		return a
	}
	out := make(indexSet, len(a)+len(b))
	for i := range a {
		out[i] = true
	}
	for i := range b {
		out[i] = true
	}
	return out
}
