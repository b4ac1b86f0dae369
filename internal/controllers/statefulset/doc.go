// Package statefulset is the StatefulSet controller: pods with stable
// identities <set>-<ordinal> (hostname, subdomain = serviceName, the
// statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index
// labels) and, per volumeClaimTemplate, a PersistentVolumeClaim
// <template>-<set>-<ordinal> that outlives its pod.
//
// OrderedReady creates pods one at a time in ascending order, each once
// the previous is Running and Ready, and removes them in descending order;
// Parallel creates and removes them all at once. RollingUpdate replaces
// pods from the highest ordinal down to the partition, one at a time and
// only while the others are healthy; OnDelete replaces only pods users
// delete. Templates are recorded as ControllerRevisions (package history)
// and pods carry the name of theirs in controller-revision-hash.
//
// Claims are created when missing and never deleted here: with
// persistentVolumeClaimRetentionPolicy Delete they get an ownerReference
// (to the set for whenDeleted, to the condemned pod for whenScaled) and
// the garbage collector removes them. It must not delete claims itself or
// touch pods it does not control.
package statefulset
