// Package proxy is navarch's service proxy, run by every node agent. It
// watches Services and EndpointSlices with client-go informers and programs
// the kernel's nftables, through netlink (github.com/google/nftables), in one
// table that navarch owns: ClusterIPs, NodePorts, external and LoadBalancer
// ingress IPs, session affinity, traffic policies and masquerading.
//
// Every Service port has chains of its own (one dispatch chain, one per
// endpoint) reached through verdict maps, so a change to one Service flushes
// and rewrites only that Service's chains and map elements, in one netlink
// transaction. The rules are generated as a small intermediate form (Rule,
// Stmt) that prints like `nft list` for tests and debugging and compiles to
// nftables expressions for the kernel.
//
// It must not touch tables or chains other than its own, talk to the API
// other than through client-go, or shell out to nft.
package proxy
