package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func benchControllers() *cobra.Command {
	return &cobra.Command{
		Use:   "controllers",
		Short: "Scale and roll a Deployment on hollow nodes and measure the controllers",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch bench controllers: not built yet")
		},
	}
}
