package cli

import (
	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

func benchPods() *cobra.Command {
	o := bench.PodsOptions{Burst: 30, Sustained: 60}
	cmd := &cobra.Command{
		Use:   "pods",
		Short: "Start pods on a real node agent and measure startup latency, start rate and memory",
		Long: "Starts a server (API only) and a `navarch agent` joined to it with a private containerd, imports busybox,\n" +
			"then creates --burst pods at once (latency from create to Running seen through a watch, image present),\n" +
			"reports the agent's and containerd's memory with them running, and creates --sustained more for the start rate.\n" +
			"Needs root, containerd, runc, the CNI plugins and busybox-static (make deps).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Binary, err = binaryOrSelf(o.Binary); err != nil {
				return err
			}
			o.Out = cmd.OutOrStdout()
			ctx, stop := signalContext()
			defer stop()
			return bench.Pods(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Binary, "binary", "", "navarch binary to benchmark (default: this one)")
	f.IntVar(&o.Burst, "burst", o.Burst, "pods created at once for the latency figures")
	f.IntVar(&o.Sustained, "sustained", o.Sustained, "pods created afterwards to measure the start rate")
	return cmd
}
