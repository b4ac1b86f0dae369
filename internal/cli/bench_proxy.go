package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

func benchProxy() *cobra.Command {
	o := bench.ProxyOptions{Services: []int{1000, 10000}, EndpointsPer: 10, Changes: 50, Duration: 3 * time.Second, Concurrency: 8, Rounds: 3}
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Measure the service proxy: endpoint change latency with many Services, connection rate through a ClusterIP",
		Long: "In network namespaces it creates (and deletes): (1) the real proxy with N Services of M endpoints,\n" +
			"fed by informers over an in-memory clientset, timing EndpointSlice updates to the end of their nftables\n" +
			"transaction; (2) new-connection rate to a busybox httpd pod through a ClusterIP and straight to its pod IP.\n" +
			"Needs root and busybox.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			ctx, stop := signalContext()
			defer stop()
			return bench.Proxy(ctx, o)
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&o.Services, "services", o.Services, "numbers of Services to measure endpoint changes with")
	f.IntVar(&o.EndpointsPer, "endpoints", o.EndpointsPer, "endpoints per Service")
	f.IntVar(&o.Changes, "changes", o.Changes, "endpoint changes timed per size")
	f.DurationVar(&o.Duration, "duration", o.Duration, "length of each connection-rate round")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "concurrent connections of the load generator")
	f.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds of direct and ClusterIP measurements")
	return cmd
}
