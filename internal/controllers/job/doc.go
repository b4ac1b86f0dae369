// Package job is the Job controller: it runs a Job's pods to completion.
//
// It keeps up to parallelism pods active until completions pods succeed
// (NonIndexed) or every index in [0, completions) has a succeeded pod
// (Indexed: pods carry the batch.kubernetes.io/job-completion-index
// annotation and label, a hostname <job>-<index> and JOB_COMPLETION_INDEX).
// Failed pods are replaced after an exponential back-off (10 s doubling,
// capped at 6 min); more failures than backoffLimit, or running longer than
// activeDeadlineSeconds, fails the Job. suspend deletes the active pods and
// resuming restarts the clock.
//
// spec.podFailurePolicy judges each Failed pod by its first matching rule
// (onExitCodes of a non-zero container exit, or onPodConditions): FailJob
// fails the Job (reason PodFailurePolicy), Ignore releases the pod without
// counting it or delaying its replacement, FailIndex fails the pod's index,
// Count (or no match) counts it. Indexed Jobs may set spec.successPolicy
// (reason SuccessPolicy once a rule's succeededIndexes/succeededCount are
// met) and backoffLimitPerIndex: each pod carries its index's earlier
// failures in batch.kubernetes.io/job-index-failure-count, an index failing
// more often goes to status.failedIndexes and gets no more pods, and the
// Job fails once more than maxFailedIndexes indexes failed
// (MaxFailedIndexesExceeded) or every index ended with some failed
// (FailedIndexes). With backoffLimitPerIndex the replacement back-off is
// per index too.
//
// Conditions follow upstream 1.32: FailureTarget (or SuccessCriteriaMet) is
// set as soon as the outcome is known, the remaining pods are deleted, and
// Failed (or Complete) is added once no pod is left running or counting.
//
// Pods are tracked with the batch.kubernetes.io/job-tracking finalizer: a
// finished pod is first recorded in status.uncountedTerminatedPods, then
// its finalizer is removed, then it moves into succeeded/failed. A pod
// deleted before it finished is thus still counted (as failed), and no pod
// is counted twice. Pods the controller deletes itself lose the finalizer
// first, so they do not count as failures.
//
// The back-off is computed from the failed pods still visible, not from
// memory, so the controller keeps no state a restart would lose. It must
// not schedule or run pods.
package job
