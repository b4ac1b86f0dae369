// Package node keeps this machine's Node object: it registers it with
// capacity, allocatable, addresses, nodeInfo and labels, renews its Lease
// in kube-node-lease, reports conditions (Ready only once the runtime and
// pod networking are), and waits for the pod CIDR the node IPAM controller
// assigns.
//
// It must not manage pods or containers; it is told about readiness and
// images through callbacks.
package node
