package cli

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/server"
)

// Server is `navarch server`.
func Server() *cobra.Command {
	opts := server.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane (API server on etcd)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			tuneGC()
			s, err := server.Start(ctx, opts, slog.Default())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "navarch is ready. To use it:\n  export KUBECONFIG=%s\n  kubectl get namespaces\n", s.Kubeconfig)
			<-ctx.Done()
			slog.Info("shutting down")
			s.Stop()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", opts.DataDir, "directory for etcd data, certificates and the admin kubeconfig")
	f.StringVar(&opts.BindAddress, "bind-address", opts.BindAddress, "address to serve HTTPS on")
	f.IntVar(&opts.Port, "secure-port", opts.Port, "port to serve HTTPS on")
	f.StringSliceVar(&opts.EtcdServers, "etcd-servers", nil, "external etcd endpoints (https://a:2379,...); empty runs an embedded etcd")
	f.StringVar(&opts.EtcdCAFile, "etcd-cafile", "", "CA bundle to verify the external etcd servers")
	f.StringVar(&opts.EtcdCertFile, "etcd-certfile", "", "client certificate for the external etcd")
	f.StringVar(&opts.EtcdKeyFile, "etcd-keyfile", "", "client key for the external etcd")
	f.StringVar(&opts.ServiceClusterIPRange, "service-cluster-ip-range", opts.ServiceClusterIPRange, "CIDR from which Service cluster IPs are allocated")
	f.StringVar(&opts.NodePortRange, "service-node-port-range", opts.NodePortRange, "port range reserved for NodePort Services")
	f.DurationVar(&opts.CompactionInterval, "etcd-compaction-interval", opts.CompactionInterval, "how often etcd history is compacted")
	f.DurationVar(&opts.EventTTL, "event-ttl", opts.EventTTL, "amount of time to retain events (0: forever)")
	f.BoolVar(&opts.Profiling, "profiling", opts.Profiling, "serve /debug/pprof to authenticated clients")
	f.StringSliceVar(&opts.DisableControllers, "disable-controllers", nil, "controllers not to run (\"*\" for none)")
	f.BoolVar(&opts.LeaderElect, "leader-elect", opts.LeaderElect, "run controllers only while holding their Lease (for several servers)")
	f.StringVar(&opts.ClusterCIDR, "cluster-cidr", opts.ClusterCIDR, "CIDR from which node pod CIDRs are allocated")
	f.BoolVar(&opts.DisableScheduler, "disable-scheduler", false, "run no scheduler in this process")
	f.StringVar(&opts.SchedulerConfig, "scheduler-config", "", "scheduler profiles file (default: one default-scheduler profile)")
	f.BoolVar(&opts.DisableAgent, "disable-agent", false, "run no node agent for this machine")
	f.StringVar(&opts.LoadBalancerAddressPool, "servicelb-address-pool", "", "addresses for LoadBalancer Services (CIDR or FIRST-LAST, comma-separated); default: the nodes' addresses")
	f.DurationVar(&opts.NodeMonitorGracePeriod, "node-monitor-grace-period", 0, "how long a node may miss heartbeats before it is marked NotReady (default 40s)")
	addLocalAgentFlags(f, &opts.Agent)
	return cmd
}

// tuneGC trades memory for CPU unless the user chose GOGC: the watch cache
// keeps every object live, so the default target (twice the live heap)
// makes the collector run after every few thousand writes.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}
