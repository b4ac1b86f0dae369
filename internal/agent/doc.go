// Package agent is navarch's node agent (the kubelet): it runs or connects
// to containerd, registers the Node and keeps its status and Lease,
// configures pod networking once the node has a pod CIDR, runs the pods
// bound to the node, and serves the kubelet HTTPS port (logs, exec,
// attach, port-forward) for the API server.
//
// It reaches the API only through client-go with the node's own
// credentials, and must not import the API server's packages. The pieces
// live in subpackages; this one only assembles them and owns lifetimes.
package agent
