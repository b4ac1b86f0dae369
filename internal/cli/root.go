// Package cli defines navarch's subcommands and their flags. Each command
// parses flags into a component's Options and starts it; no component logic
// lives here.
package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// Root is the top-level command.
func Root() *cobra.Command {
	var level string
	root := &cobra.Command{
		Use:           "navarch",
		Short:         "A Kubernetes-compatible cluster manager in one binary",
		SilenceUsage:  true,
		SilenceErrors: false,
		PersistentPreRun: func(*cobra.Command, []string) {
			l := newLogger(level)
			slog.SetDefault(l)
			// client-go (informers, leader election) logs through klog.
			klog.SetSlogLogger(l)
		},
	}
	root.PersistentFlags().StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	return root
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
