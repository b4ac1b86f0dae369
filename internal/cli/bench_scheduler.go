package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func benchScheduler() *cobra.Command {
	return &cobra.Command{
		Use:   "scheduler",
		Short: "Schedule pods onto hollow nodes and measure pods bound per second",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch bench scheduler: not built yet")
		},
	}
}
