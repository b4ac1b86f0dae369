// Package cri holds thin helpers over the CRI gRPC API
// (k8s.io/cri-api): dialling the runtime's socket, the labels and
// annotations navarch puts on sandboxes and containers to find them again
// after a restart, and snapshots of the runtime's state grouped by pod.
//
// It must not make lifecycle decisions; the pod workers do.
package cri
