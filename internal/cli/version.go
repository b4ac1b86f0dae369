package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/version"
)

// Version is `navarch version`.
func Version() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the navarch version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version.Info()
			fmt.Fprintf(cmd.OutOrStdout(), "navarch version %s (commit %s, %s)\n", v.GitVersion, v.GitCommit, v.GoVersion)
		},
	}
}
