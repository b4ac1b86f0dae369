package scheduler

import (
	"context"
	"encoding/json"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/navarch/navarch/internal/scheduler/framework"
)

// Condition reasons, as upstream.
const (
	reasonUnschedulable  = corev1.PodReasonUnschedulable
	reasonSchedulerError = corev1.PodReasonSchedulerError
)

// handleFailure records why the pod could not be placed -- a
// FailedScheduling event and a PodScheduled=False condition -- and puts it
// back in the queue, nominated if preemption made room for it.
func (s *Scheduler) handleFailure(ctx context.Context, fwk *framework.Framework, qp *framework.QueuedPodInfo, err error, nominated string, cycle int64) {
	pod := qp.Pod
	reason := reasonSchedulerError
	var fitErr *framework.FitError
	switch {
	case errors.As(err, &fitErr):
		reason = reasonUnschedulable
		qp.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
	case errors.Is(err, ErrNoNodesAvailable):
		reason = reasonUnschedulable
		qp.UnschedulablePlugins = nil
	default:
		qp.UnschedulablePlugins = nil
		s.log.Info("scheduling attempt failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	cur, gerr := s.pods.Pods(pod.Namespace).Get(pod.Name)
	if gerr != nil || cur.UID != pod.UID || cur.Spec.NodeName != "" {
		// Deleted, replaced or bound meanwhile: nothing to retry.
		s.queue.Nominator().Delete(pod.UID)
		return
	}
	cur = s.withPriority(cur)
	qp.PodInfo = framework.NewPodInfo(cur)
	if nominated != "" {
		s.queue.Nominator().Add(qp.PodInfo, nominated)
	}
	s.queue.AddUnschedulableIfNotPresent(qp, cycle)
	msg := err.Error()
	s.recorders[fwk.ProfileName()].Eventf(cur, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", "%s", msg)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
	if needsStatusUpdate(cur, cond, nominated) {
		s.binding.Add(1)
		s.binders.Go(func() {
			defer s.binding.Done()
			if err := s.patchStatus(ctx, cur, cond, nominated); err != nil && ctx.Err() == nil {
				s.log.Info("updating pod condition", "pod", cur.Namespace+"/"+cur.Name, "err", err)
			}
		})
	}
}

// needsStatusUpdate avoids a write when the pod already says the same.
func needsStatusUpdate(pod *corev1.Pod, cond corev1.PodCondition, nominated string) bool {
	if nominated != "" && pod.Status.NominatedNodeName != nominated {
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == cond.Type {
			return c.Status != cond.Status || c.Reason != cond.Reason || c.Message != cond.Message
		}
	}
	return true
}

// patchStatus sends the condition (and nomination) as a strategic merge
// patch of the status, which merges conditions by type.
func (s *Scheduler) patchStatus(ctx context.Context, pod *corev1.Pod, cond corev1.PodCondition, nominated string) error {
	cond.LastTransitionTime = metav1.Now()
	for _, c := range pod.Status.Conditions {
		if c.Type == cond.Type && c.Status == cond.Status {
			cond.LastTransitionTime = c.LastTransitionTime
		}
	}
	status := map[string]any{"conditions": []corev1.PodCondition{cond}}
	if nominated != "" {
		status["nominatedNodeName"] = nominated
	}
	body, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, body, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
