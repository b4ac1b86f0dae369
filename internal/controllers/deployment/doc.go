// Package deployment rolls Deployments out through ReplicaSets, as
// upstream's deployment controller does: one ReplicaSet per pod template
// (named and labelled with its pod-template-hash), RollingUpdate within
// maxSurge/maxUnavailable or Recreate, proportional scaling while a rollout
// runs, pause and resume, revision numbers in the
// deployment.kubernetes.io/revision annotation (with revision-history for
// templates rolled back to), cleanup beyond revisionHistoryLimit, and the
// Progressing/Available conditions with progressDeadlineSeconds. kubectl's
// `rollout status|history|undo|restart|pause|resume` read and write exactly
// these fields.
//
// It keeps no state: every sync recomputes from the Deployment and the
// ReplicaSets in the informer cache, so a restart mid-rollout carries on.
// It never creates or deletes pods (the ReplicaSet controller does), and
// reads pods only to see whether a Recreate may start the new ones.
package deployment
