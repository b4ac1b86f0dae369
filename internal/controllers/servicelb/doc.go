// Package servicelb gives LoadBalancer Services their addresses in the
// style of k3s's ServiceLB: the addresses of the Ready nodes (every node's
// proxy answers on its own address), or one address per Service from a pool
// given with --servicelb-address-pool (routing the pool to the nodes is the
// network's job). It writes status.loadBalancer.ingress, which kubectl shows
// as EXTERNAL-IP.
//
// It must not program the network, and it leaves Services with a
// loadBalancerClass to their own controller.
package servicelb
