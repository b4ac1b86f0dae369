package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func benchHollow() *cobra.Command {
	return &cobra.Command{
		Use:   "hollow",
		Short: "Run simulated (hollow) nodes against a server until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch bench hollow: not built yet")
		},
	}
}
