// Package namespace is the namespace lifecycle controller. When a
// Namespace is deleted (it then has a deletionTimestamp, phase Terminating,
// and the "kubernetes" entry in spec.finalizers), it discovers every
// namespaced resource the API serves, deletes all of their objects in the
// namespace through the metadata client, reports progress in the
// upstream status conditions (NamespaceDeletionDiscoveryFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining,
// NamespaceFinalizersRemaining, ...), and once nothing is left removes the
// "kubernetes" finalizer through namespaces/{name}/finalize, after which
// the API server removes the Namespace.
//
// Refusing creates in a Terminating namespace is the API server's job, not
// this package's. The controller keeps no state between syncs: every pass
// rediscovers and recounts, so a restart resumes where the last one left.
package namespace
