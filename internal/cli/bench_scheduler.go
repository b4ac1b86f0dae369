package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

func benchScheduler() *cobra.Command {
	o := bench.SchedulerOptions{Nodes: 5000, InitPods: 1000, Pods: 10000, Workload: bench.WorkloadBasic, Groups: 10,
		Clients: 32, LeaseInterval: 10 * time.Second, Timeout: 10 * time.Minute}
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Schedule pods onto hollow nodes and measure pods bound per second",
		Long: "A SchedulingBasic-style run after upstream scheduler_perf: a server with embedded etcd and the scheduler\n" +
			"(no controllers, no agent) as a child process, --nodes hollow nodes in this process, --init-pods placed\n" +
			"first, then --pods created through the API at full speed; pods bound per second are sampled once a second.\n" +
			"Workloads: basic, anti-affinity (required anti-affinity per node among pods of one of --groups colors),\n" +
			"topology-spreading (maxSkew 5 over 3 zones, DoNotSchedule).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.Workload {
			case bench.WorkloadBasic, bench.WorkloadAntiAffinity, bench.WorkloadSpreading:
			default:
				return fmt.Errorf("--workload: want %s, %s or %s, got %q", bench.WorkloadBasic, bench.WorkloadAntiAffinity, bench.WorkloadSpreading, o.Workload)
			}
			if o.Nodes <= 0 || o.Pods <= 0 || o.InitPods < 0 || o.Clients <= 0 || o.Groups <= 0 {
				return fmt.Errorf("--nodes, --pods, --clients and --groups must be positive, --init-pods not negative")
			}
			var err error
			if o.Binary, err = binaryOrSelf(o.Binary); err != nil {
				return err
			}
			o.Out = cmd.OutOrStdout()
			tuneGC()
			ctx, stop := signalContext()
			defer stop()
			return bench.Scheduler(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Binary, "binary", "", "navarch binary to benchmark (default: this one)")
	f.IntVar(&o.Nodes, "nodes", o.Nodes, "hollow nodes")
	f.IntVar(&o.InitPods, "init-pods", o.InitPods, "pods placed before measuring")
	f.IntVar(&o.Pods, "pods", o.Pods, "pods measured")
	f.StringVar(&o.Workload, "workload", o.Workload, "basic, anti-affinity or topology-spreading")
	f.IntVar(&o.Groups, "groups", o.Groups, "anti-affinity: colors of mutually repelling pods")
	f.IntVar(&o.Clients, "clients", o.Clients, "concurrent pod creators")
	f.IntVar(&o.Parallelism, "parallelism", 0, "scheduler parallelism (0: its default, 16)")
	f.DurationVar(&o.LeaseInterval, "lease-interval", o.LeaseInterval, "hollow nodes' Lease renewal interval")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a 10s CPU profile of the server, taken while measuring, to this file")
	f.BoolVar(&o.CPUBreakdown, "cpu-breakdown", false, "profile the server and the bench for 10s while measuring and print CPU per pod by owner (navarch, etcd, codecs, net/http, runtime)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up when pods are not bound by then")
	return cmd
}
