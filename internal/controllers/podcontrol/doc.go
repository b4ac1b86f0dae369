// Package podcontrol holds what every pod-owning controller (ReplicaSet,
// DaemonSet, StatefulSet, Job) does the same way upstream does it:
//
//   - build a pod from a PodTemplateSpec with a controller ownerReference
//     (NewPod) and create or delete it, recording the SuccessfulCreate,
//     FailedCreate, SuccessfulDelete and FailedDelete events (Control);
//   - claim pods for an owner: adopt matching orphans and release owned
//     pods that stopped matching, by patching ownerReferences (RefManager);
//   - rank pods by how valuable they are, so that scaling down deletes the
//     least valuable first (SortForDeletion, LessValuable);
//   - pod predicates (IsActive, IsReady, IsAvailable) and slow-start batch
//     creation (SlowStart).
//
// It talks to the API only through client-go and keeps no state between
// calls: callers own their expectations and informers. It must not know
// about any particular controller's resource beyond the owner it is given.
package podcontrol
