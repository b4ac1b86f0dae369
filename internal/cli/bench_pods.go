package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func benchPods() *cobra.Command {
	return &cobra.Command{
		Use:   "pods",
		Short: "Start pods on the local node and measure startup latency",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch bench pods: not built yet")
		},
	}
}
