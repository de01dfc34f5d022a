// Command grim-agent is the Grim Reaper daemon that runs on every protected host.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/internal/buildinfo"
	"github.com/grim-reaper/grim/internal/profiling"
)

func main() {
	stopProfile, err := profiling.Start("grim-agent", os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim-agent:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = newRootCmd().ExecuteContext(ctx)
	stop()
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim-agent:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "grim-agent",
		Short:         "Grim Reaper agent: backs up and restores this host for its controller",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newEnrollCmd(), &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit",
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), buildinfo.String("grim-agent")) },
	})
	return root
}
