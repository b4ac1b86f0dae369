// Package podgc is the pod garbage collector. Every PodGCPeriod it
// force-deletes:
//
//   - the oldest terminated pods (phase Succeeded or Failed) beyond
//     TerminatedPodGCThreshold;
//   - pods bound to a node that no longer exists, once the node has been
//     missing for OrphanedPodQuarantine and a live read confirms it (they
//     are first marked Failed with a DisruptionTarget condition);
//   - terminating pods that were never scheduled, which no node agent will
//     ever finish;
//   - terminating pods on a not-ready node tainted out-of-service.
//
// It keeps only the times at which it first saw nodes missing, which a
// restart resets (so a restart only delays collection).
package podgc
