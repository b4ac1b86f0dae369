// Package server assembles `navarch server`: embedded or external etcd,
// certificates, the resource stores with their watch caches, the HTTPS API
// and the bootstrap objects every cluster has. It wires components together
// and owns their lifetimes; it holds no API logic of its own.
package server

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Options are the flags of `navarch server`.
type Options struct {
	// DataDir keeps etcd data, certificates and the admin kubeconfig.
	DataDir string
	// BindAddress and Port are where HTTPS is served.
	BindAddress string
	Port        int
	// EtcdServers selects an external etcd cluster instead of the
	// embedded one; the TLS files authenticate to it.
	EtcdServers                           []string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// ServiceClusterIPRange is the CIDR Service cluster IPs come from.
	ServiceClusterIPRange string
	// NodePortRange is "min-max".
	NodePortRange string
	// CompactionInterval is how often old etcd history is compacted.
	CompactionInterval time.Duration
	// EventTTL is how long Events live after their last write (0: forever).
	EventTTL time.Duration
	// Profiling enables /debug/pprof.
	Profiling bool
	// DisableControllers names controllers not to run; "*" disables the
	// controller manager entirely.
	DisableControllers []string
	// LeaderElect makes the controller manager (and scheduler) act only
	// while holding their Lease, for several servers on one etcd.
	LeaderElect bool
	// ClusterCIDR is the range node pod CIDRs are carved from.
	ClusterCIDR string
	// DisableScheduler runs no scheduler in this process.
	DisableScheduler bool
	// SchedulerConfig is a scheduler profiles file; empty uses the default
	// profile.
	SchedulerConfig string
	// DisableAgent runs no node agent for the local machine.
	DisableAgent bool
	// LoadBalancerAddressPool gives LoadBalancer Services addresses from
	// a pool instead of the nodes' addresses.
	LoadBalancerAddressPool string
	// NodeMonitorGracePeriod is how long a node may go without
	// heartbeats before it is NotReady (0: upstream's 40 s).
	NodeMonitorGracePeriod time.Duration
	// Agent configures the local node agent (see AgentOptions).
	Agent AgentOptions
}

// DefaultOptions returns the upstream-like defaults.
func DefaultOptions() Options {
	return Options{
		DataDir:               "/var/lib/navarch",
		BindAddress:           "0.0.0.0",
		Port:                  6443,
		ServiceClusterIPRange: "10.96.0.0/12",
		NodePortRange:         "30000-32767",
		CompactionInterval:    5 * time.Minute,
		EventTTL:              time.Hour,
		Profiling:             true,
		LeaderElect:           true,
		ClusterCIDR:           "10.244.0.0/16",
	}
}

func (o Options) serviceCIDR() (*net.IPNet, error) {
	_, cidr, err := net.ParseCIDR(o.ServiceClusterIPRange)
	if err != nil {
		return nil, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	return cidr, nil
}

func (o Options) nodePorts() (int, int, error) {
	lo, hi, ok := strings.Cut(o.NodePortRange, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a <= 0 || b > 65535 || a > b {
		return 0, 0, fmt.Errorf("--service-node-port-range: want min-max, got %q", o.NodePortRange)
	}
	return a, b, nil
}
