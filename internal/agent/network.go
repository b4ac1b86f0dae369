package agent

import (
	"context"

	"github.com/navarch/navarch/internal/proxy"
)

// startNetwork starts the node's service proxy and cluster DNS (routes
// follow once the pod CIDR is known); they stop with ctx. The proxy's
// table goes with the agent even when pods stay: a table left behind by a
// dead agent would keep answering for Service IPs that may have moved.
func (a *Agent) startNetwork(ctx context.Context) error {
	o := a.opts
	cidr := o.ClusterCIDR
	if cidr == "" {
		cidr = "10.244.0.0/16"
	}
	n, err := proxy.StartNode(ctx, proxy.NodeConfig{Client: a.client, NodeName: o.NodeName, NodeIP: o.NodeIP, DataDir: o.DataDir,
		ClusterCIDR: cidr, ClusterDomain: o.ClusterDomain, ClusterDNS: o.ClusterDNS, DeleteOnExit: true,
		Logger: a.log.With("component", "network")})
	if err != nil {
		return err
	}
	a.network = n
	return nil
}
