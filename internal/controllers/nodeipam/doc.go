// Package nodeipam gives every Node a pod CIDR (spec.podCIDR and
// spec.podCIDRs) cut out of the cluster CIDR: one subnet per configured
// family (IPv4, and IPv6 when the cluster CIDR lists one), /24 and /64 by
// default. Two nodes never share a subnet: at start the allocations already
// recorded on Nodes are taken before anything new is handed out, and a
// deleted Node's subnets return to the pool.
//
// The only state is the set of subnets in use, rebuilt from the Nodes at
// every start. It does not configure networking on the nodes.
package nodeipam
