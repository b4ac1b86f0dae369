package framework

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// QueuedPodInfo is a pod in the scheduling queue.
type QueuedPodInfo struct {
	*PodInfo
	// Timestamp is when the pod was last added to the queue; the queue
	// orders equal priorities by it.
	Timestamp time.Time
	// Attempts counts scheduling attempts, for back-off.
	Attempts int
	// InitialAttemptTimestamp is the first attempt's time.
	InitialAttemptTimestamp *time.Time
	// UnschedulablePlugins rejected the pod in its last attempt; only
	// events they registered requeue it.
	UnschedulablePlugins sets.Set[string]
}

// PodPriority is spec.priority, 0 when unset.
func PodPriority(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// PodStartTime is status.startTime, or creation for a pod not started.
func PodStartTime(pod *corev1.Pod) time.Time {
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}

// Diagnosis explains why a pod fits nowhere.
type Diagnosis struct {
	NodeToStatus NodeToStatus
	// UnschedulablePlugins returned Unschedulable(AndUnresolvable).
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is set when a PreFilter plugin rejected the pod for
	// every node; PostFilterMsg is the preemption outcome.
	PreFilterMsg  string
	PostFilterMsg string
}

// FitError is a scheduling failure because no node fits.
type FitError struct {
	Pod         *corev1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// NoNodeAvailableMsg starts every FailedScheduling message.
const NoNodeAvailableMsg = "0/%v nodes are available"

// Error is the message of the FailedScheduling event and the PodScheduled
// condition, e.g. "0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
// didn't match Pod's node affinity/selector."
func (f *FitError) Error() string {
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		// Every node carries the PreFilter status; counting it per node
		// would repeat it.
		msg += " " + strings.TrimSuffix(f.Diagnosis.PreFilterMsg, ".") + "."
	} else if h := ReasonHistogram(f.Diagnosis.NodeToStatus, f.NumAllNodes); h != "" {
		msg += " " + h + "."
	}
	if f.Diagnosis.PostFilterMsg != "" {
		msg += " " + strings.TrimSuffix(f.Diagnosis.PostFilterMsg, ".") + "."
	}
	return msg
}

// ReasonHistogram counts each reason over nodes, sorted as text:
// "1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector".
// Nodes absent from the map count with the Absent status, up to numNodes.
func ReasonHistogram(m NodeToStatus, numNodes int) string {
	counts := map[string]int{}
	for _, s := range m.Map {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	if absent := numNodes - len(m.Map); absent > 0 && m.Absent != nil {
		for _, r := range m.Absent.Reasons() {
			counts[r] += absent
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
