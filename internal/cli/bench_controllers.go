package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

func benchControllers() *cobra.Command {
	// Client limits as `navarch server` gives its controller manager; a
	// kubelet's default client allows 50 qps per node.
	o := bench.ControllersOptions{Replicas: 3000, Nodes: 100, NodeQPS: 50, QPS: 1000, Burst: 2000, Timeout: 5 * time.Minute}
	var binary string
	cmd := &cobra.Command{
		Use:   "controllers",
		Short: "Scale and roll a Deployment on hollow nodes and measure the controllers",
		Long: "Starts navarch server (API, etcd, scheduler) and hollow nodes as child processes, runs the\n" +
			"controller manager in this process, scales a Deployment from 0 to --replicas until all are\n" +
			"available, then rolls all of them (maxSurge 25%), and reports times, CPU and memory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Binary, err = binaryOrSelf(binary); err != nil {
				return err
			}
			o.Out = cmd.OutOrStdout()
			tuneGC()
			ctx, stop := signalContext()
			defer stop()
			return bench.Controllers(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&binary, "binary", "", "navarch binary to start as the server and hollow nodes (default: this one)")
	f.Int32Var(&o.Replicas, "replicas", o.Replicas, "Deployment size after the scale-up")
	f.IntVar(&o.Nodes, "nodes", o.Nodes, "hollow nodes")
	f.Float64Var(&o.NodeQPS, "node-qps", o.NodeQPS, "writes per second of each hollow node")
	f.Float32Var(&o.QPS, "qps", o.QPS, "controller manager client QPS (as navarch server's)")
	f.IntVar(&o.Burst, "burst", o.Burst, "controller manager client burst (as navarch server's)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "limit for each phase")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write the controller manager's CPU profile to this file")
	f.BoolVar(&o.Progress, "progress", false, "print pod counts every second (diagnosis: costs the server)")
	return cmd
}
