package cli

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/bench"
)

// Bench is `navarch bench`.
func Bench() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure navarch's performance"}
	cmd.AddCommand(benchAPI(), benchScheduler(), benchHollow(), benchPods(), benchControllers(), benchProxy())
	return cmd
}

func benchAPI() *cobra.Command {
	o := bench.Options{Objects: 5000, Clients: 32, Rate: 500, Duration: 10 * time.Second, Watchers: 1000,
		ContentType: "application/vnd.kubernetes.protobuf"}
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Start a server with embedded etcd and measure API throughput and latency with client-go",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Binary, err = binaryOrSelf(o.Binary); err != nil {
				return err
			}
			o.Out = cmd.OutOrStdout()
			// The client shares the cores with the server; keep its own
			// collector from taking the server's CPU.
			tuneGC()
			ctx, stop := signalContext()
			defer stop()
			return bench.API(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Binary, "binary", "", "navarch binary to benchmark (default: this one)")
	f.IntVar(&o.Objects, "objects", o.Objects, "pods to create and list")
	f.IntVar(&o.Clients, "clients", o.Clients, "concurrent creators")
	f.IntVar(&o.Rate, "rate", o.Rate, "requests per second in the mixed phase")
	f.DurationVar(&o.Duration, "duration", o.Duration, "length of the mixed phase")
	f.IntVar(&o.Watchers, "watchers", o.Watchers, "watches in the fan-out phase")
	f.StringVar(&o.ContentType, "content-type", o.ContentType, "client wire format (application/json or application/vnd.kubernetes.protobuf)")
	return cmd
}

// binaryOrSelf is the navarch binary a benchmark starts: path, or this
// one when path is empty.
func binaryOrSelf(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	return os.Executable()
}
