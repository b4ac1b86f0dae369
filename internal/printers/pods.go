package printers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// nodeLostReason is the pod status reason the node lifecycle controller
// sets when the node stops reporting.
const nodeLostReason = "NodeLost"

func init() {
	register("", "pods", podPrinter{typed[*corev1.Pod]{
		cols: []metav1.TableColumnDefinition{
			nameCol(),
			str("Ready", "Ready containers out of total containers."),
			str("Status", "The aggregate status of the containers in this pod."),
			str("Restarts", "Container restarts, and how long ago the last one happened."),
			ageCol(),
			wide("IP", "IP address allocated to the pod."),
			wide("Node", "Node the pod is scheduled onto."),
			wide("Nominated Node", "Node the scheduler nominated for preemption."),
			wide("Readiness Gates", "Readiness gates that are satisfied out of those declared."),
		},
		cells: podCells,
	}})
}

// podPrinter adds row conditions so clients can tell finished pods apart.
type podPrinter struct{ typed[*corev1.Pod] }

func (p podPrinter) RowConditions(obj runtime.Object) []metav1.TableRowCondition {
	pod, err := as[*corev1.Pod](obj)
	if err != nil {
		return nil
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}}
	case corev1.PodFailed:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}}
	}
	return nil
}

func podCells(pod *corev1.Pod, now time.Time) ([]interface{}, error) {
	s := summarizePod(pod)
	restarts := fmt.Sprintf("%d", s.restarts)
	if !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, since(s.lastRestart, now))
	}
	ip := none
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	} else if pod.Status.PodIP != "" {
		ip = pod.Status.PodIP
	}
	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.reason,
		restarts,
		age(pod.ObjectMeta, now),
		ip,
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates(pod),
	}, nil
}

// podSummary is the digest of container statuses behind READY, STATUS and
// RESTARTS.
type podSummary struct {
	ready, total int
	restarts     int
	lastRestart  metav1.Time
	reason       string
}

func (s *podSummary) countRestarts(cs corev1.ContainerStatus) {
	s.restarts += int(cs.RestartCount)
	if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(s.lastRestart.Time) {
		s.lastRestart = t.FinishedAt
	}
}

func summarizePod(pod *corev1.Pod) podSummary {
	s := podSummary{total: len(pod.Spec.Containers), reason: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		s.reason = pod.Status.Reason
	}
	if schedulingGated(pod) {
		s.reason = string(corev1.PodReasonSchedulingGated)
	}
	sidecars := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			s.total++
		}
	}
	initializing, sidecar := summarizeInit(pod, sidecars, &s)
	if !initializing || podConditionTrue(pod, corev1.PodInitialized) {
		// Once initialised only sidecar restarts still matter from the init phase.
		s.restarts, s.lastRestart = sidecar.restarts, sidecar.lastRestart
		summarizeContainers(pod, &s)
	}
	if pod.DeletionTimestamp != nil {
		switch {
		case pod.Status.Reason == nodeLostReason:
			s.reason = "Unknown"
		case pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
			s.reason = "Terminating"
		}
	}
	return s
}

// summarizeInit walks init containers in order, stopping at the first that
// has not finished; it reports whether the pod is still initialising and
// the restarts attributable to sidecars.
func summarizeInit(pod *corev1.Pod, sidecars map[string]bool, s *podSummary) (bool, podSummary) {
	var side podSummary
	for i, cs := range pod.Status.InitContainerStatuses {
		s.countRestarts(cs)
		if sidecars[cs.Name] {
			side.countRestarts(cs)
			if cs.Started != nil && *cs.Started {
				if cs.Ready {
					s.ready++
				}
				continue
			}
		}
		if t := cs.State.Terminated; t != nil {
			if t.ExitCode == 0 {
				continue
			}
			s.reason = "Init:" + terminatedReason(t)
			return true, side
		}
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" {
			s.reason = "Init:" + w.Reason
			return true, side
		}
		s.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		return true, side
	}
	return false, side
}

// summarizeContainers scans regular containers from last to first so the
// first container's problem wins, as upstream shows it.
func summarizeContainers(pod *corev1.Pod, s *podSummary) {
	running := false
	for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := pod.Status.ContainerStatuses[i]
		s.countRestarts(cs)
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			s.reason = cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			s.reason = terminatedReason(cs.State.Terminated)
		case cs.Ready && cs.State.Running != nil:
			running = true
			s.ready++
		}
	}
	// A pod with a finished container and a live one is not "Completed".
	if s.reason == "Completed" && running {
		s.reason = "NotReady"
		if podConditionTrue(pod, corev1.PodReady) {
			s.reason = "Running"
		}
	}
}

func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	default:
		return fmt.Sprintf("ExitCode:%d", t.ExitCode)
	}
}

func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func schedulingGated(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonSchedulingGated {
			return true
		}
	}
	return false
}

func readinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return none
	}
	met := 0
	for _, g := range pod.Spec.ReadinessGates {
		if podConditionTrue(pod, g.ConditionType) {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(pod.Spec.ReadinessGates))
}
