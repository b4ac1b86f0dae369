// Package replication is the ReplicationController controller: core/v1
// ReplicationControllers synced by the ReplicaSet logic of package
// replicaset through an adapter. It holds no logic of its own.
package replication
