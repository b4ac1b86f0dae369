package cli

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/navarch/navarch/internal/agent/images"
)

// imageTarget locates the node's containerd.
type imageTarget struct{ address, dataDir string }

// defaultAgentDirs are where `navarch server` and `navarch agent` keep the
// agent's data by default.
var defaultAgentDirs = []string{"/var/lib/navarch/agent", "/var/lib/navarch-agent"}

func (t *imageTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.address, "address", "", "containerd socket (default: the agent's, from --data-dir)")
	cmd.Flags().StringVar(&t.dataDir, "data-dir", "", "the agent's data dir, or the server's for its own node")
}

func (t *imageTarget) socket() (string, error) {
	if t.address != "" {
		return t.address, nil
	}
	dirs := defaultAgentDirs
	if t.dataDir != "" {
		dirs = []string{t.dataDir}
	}
	for _, d := range dirs {
		// The agent's own data dir, or a server's (whose agent is in agent/).
		for _, s := range []string{filepath.Join(d, "containerd", "containerd.sock"), filepath.Join(d, "agent", "containerd", "containerd.sock")} {
			if _, err := os.Stat(s); err == nil {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("no agent containerd socket found in %v: is the agent running? (give --data-dir or --address)", dirs)
}

// Images is `navarch images`: offline image management for the node.
func Images() *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Import images into the node's containerd (no registry needed)"}
	cmd.AddCommand(imagesImport(), imagesBusybox())
	return cmd
}

func imagesImport() *cobra.Command {
	var t imageTarget
	cmd := &cobra.Command{
		Use:   "import FILE.tar...",
		Short: "Import docker-save or OCI image archives into the node's containerd",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sock, err := t.socket()
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			for _, a := range args {
				if err := images.Import(ctx, sock, a); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", a)
			}
			return nil
		},
	}
	t.flags(cmd)
	return cmd
}

func imagesBusybox() *cobra.Command {
	var t imageTarget
	var binary, output string
	tags := []string{images.BusyboxRef}
	cmd := &cobra.Command{
		Use:   "busybox",
		Short: "Build a busybox image from a static busybox binary and import it (or save it with --output)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			img, err := images.BusyboxImage(binary)
			if err != nil {
				return err
			}
			refs := map[string]v1.Image{}
			for _, tag := range tags {
				refs[tag] = img
			}
			if output != "" {
				if err := images.WriteArchiveFile(output, refs); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", output)
				return nil
			}
			sock, err := t.socket()
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			tmp, err := os.MkdirTemp("", "navarch-images-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if err := images.ImportImages(ctx, sock, tmp, refs); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %v\n", tags)
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&binary, "binary", "/bin/busybox", "static busybox binary (Debian: busybox-static)")
	cmd.Flags().StringSliceVar(&tags, "tag", tags, "image names to give it")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write a docker-save archive here instead of importing")
	return cmd
}
