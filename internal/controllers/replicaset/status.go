package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

// Reasons of the ReplicaFailure condition, as upstream.
const (
	ReasonFailedCreate = "FailedCreate"
	ReasonFailedDelete = "FailedDelete"
)

// calculateStatus is the status rs should report given its claimed active
// pods and the error of this sync's creations or deletions, if any.
func calculateStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	tmpl := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var fully, ready, available int32
	for _, p := range pods {
		if tmpl.Matches(labels.Set(p.Labels)) {
			fully++
		}
		if podcontrol.IsReady(p) {
			ready++
			if podcontrol.IsAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas = fully, ready, available
	st.ObservedGeneration = rs.Generation
	st.Conditions = failureCondition(st.Conditions, len(pods)-int(replicas(rs)), manageErr, now)
	return st
}

// failureCondition sets ReplicaFailure when creating or deleting failed,
// and removes it once a sync manages the replicas without error.
func failureCondition(conds []appsv1.ReplicaSetCondition, diff int, manageErr error, now time.Time) []appsv1.ReplicaSetCondition {
	i := conditionIndex(conds, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && i < 0:
		reason := ReasonFailedCreate
		if diff > 0 {
			reason = ReasonFailedDelete
		}
		return append(conds, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && i >= 0:
		return append(conds[:i:i], conds[i+1:]...)
	}
	return conds
}

func conditionIndex(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) int {
	for i, c := range conds {
		if c.Type == t {
			return i
		}
	}
	return -1
}

func statusEqual(a, b appsv1.ReplicaSetStatus) bool { return equality.Semantic.DeepEqual(a, b) }
