package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Agent is `navarch agent`: the node part (kubelet) joined to a server.
func Agent() *cobra.Command {
	return &cobra.Command{
		Use:   "agent",
		Short: "Run the node agent and join a navarch server",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("navarch agent: not built yet")
		},
	}
}
