// Command navarch is the single navarch binary: `navarch server` runs the
// control plane, `navarch agent` the node part, `navarch version` prints
// the build. Subcommands live in
// internal/cli; this file only assembles them.
package main

import (
	"os"

	"github.com/navarch/navarch/internal/cli"
)

func main() {
	root := cli.Root()
	root.AddCommand(cli.Server(), cli.Agent(), cli.Images(), cli.Version(), cli.Bench(), cli.Dev())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
