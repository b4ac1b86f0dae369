// Package cni writes the node's pod network configuration for the
// standard CNI plugins (Debian's containernetworking-plugins in
// /usr/lib/cni): a bridge with host-local IPAM over the node's pod CIDR,
// then portmap for hostPorts, then loopback. containerd runs the plugins;
// this package only writes their configuration and says whether the
// plugins it needs are installed.
//
// It must not set up routes between nodes, Services or DNS (that is the
// networking component's job).
package cni
