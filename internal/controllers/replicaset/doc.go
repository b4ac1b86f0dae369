// Package replicaset keeps the number of pods matching a ReplicaSet's (or a
// ReplicationController's) selector equal to its replicas: it adopts
// matching orphans and releases pods that stop matching, creates missing
// pods in slow-start batches, deletes the least valuable pods first, and
// reports replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
// observedGeneration and the ReplicaFailure condition in status.
//
// ReplicationControllers run through the same logic: an adapter converts
// them to ReplicaSets in memory and their status back (see NewForRC).
//
// The controller keeps no state beyond its expectations, which only stop it
// from acting on a cache that is behind its own writes. It must not know
// about Deployments: a ReplicaSet owned by one is synced like any other.
package replicaset
