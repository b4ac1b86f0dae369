// Package proxy is navarch's service proxy, run by every node agent. It
// watches Services and EndpointSlices with client-go informers and programs
// the kernel's nftables, through netlink (github.com/google/nftables), in one
// table that navarch owns: ClusterIPs, NodePorts, external and LoadBalancer
// ingress IPs, session affinity, traffic policies and masquerading.
//
// Every Service port has a dispatch chain of its own, reached through
// verdict maps, that DNATs with "numgen random mod 65536" looked up in an
// interval map of its endpoints (a slot of a map shared by 64 ports). An
// endpoint change therefore replaces map elements only: no rule is
// rewritten, and nf_tables, which re-validates the whole table (every
// chain reachable from every hook) on a commit that adds jumps, NAT rules
// or verdict elements, has nothing to re-validate. Ports with session
// affinity keep one chain per endpoint, which remembers its clients.
// Hairpin connections (a pod reaching itself through a Service) are
// masqueraded in postrouting through a set of address pairs shared by all
// Services. A change to one Service touches only its own chains, slots and
// elements, in one netlink transaction. The rules are generated as a small
// intermediate form (Rule, Stmt) that prints like `nft list` for tests and
// debugging and compiles to nftables expressions for the kernel.
//
// It must not touch tables or chains other than its own, talk to the API
// other than through client-go, or shell out to nft.
package proxy
