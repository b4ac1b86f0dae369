// Package routes makes the pod network flat across nodes ("host-gw"): it
// watches Nodes and keeps one route per other node, its pod CIDR via its
// InternalIP, and it masquerades this node's pod traffic that leaves the
// cluster CIDR. Nodes must share a link (one L2 segment) for host-gw.
//
// It must not touch routes it did not make (they carry navarch's route
// protocol number) or tables other than its own.
package routes
