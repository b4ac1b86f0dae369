package cli

import (
	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

// hollowDefaults are the shape of a hollow node, for `navarch bench hollow`
// and `navarch agent --hollow`.
func hollowDefaults() bench.HollowOptions {
	return bench.HollowOptions{Count: 100, NamePrefix: "hollow-node-", CPU: "4", Memory: "32Gi", Pods: 110, RunPods: true}
}

func benchHollow() *cobra.Command {
	o := hollowDefaults()
	cmd := &cobra.Command{
		Use:   "hollow",
		Short: "Run simulated (hollow) nodes against a server until interrupted",
		Long: "Registers --count Nodes that keep their Leases fresh and report the pods bound to them\n" +
			"as Running, like kubelets with no containers, all in this one process.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			ctx, stop := signalContext()
			defer stop()
			return bench.Hollow(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the server (default: $KUBECONFIG or ~/.kube/config)")
	f.IntVar(&o.Count, "count", o.Count, "number of hollow nodes")
	f.StringVar(&o.NamePrefix, "name-prefix", o.NamePrefix, "node i is named <prefix><i>")
	f.BoolVar(&o.RunPods, "run-pods", o.RunPods, "report pods bound to the nodes as Running")
	f.StringVar(&o.CPU, "cpu", o.CPU, "cpu capacity of each node")
	f.StringVar(&o.Memory, "memory", o.Memory, "memory capacity of each node")
	f.IntVar(&o.Pods, "pods", o.Pods, "pod capacity of each node")
	f.Float64Var(&o.QPS, "qps", 0, "writes per second of all nodes together (0: enough for the Leases)")
	return cmd
}
