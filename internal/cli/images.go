package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Images is `navarch images`: offline image management for the node.
func Images() *cobra.Command {
	return &cobra.Command{
		Use:   "images",
		Short: "Import images into the node's containerd",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch images: not built yet")
		},
	}
}
