// Command grim-controller is the Grim Reaper controller: the REST API, the web dashboard,
// the agent endpoint and the scheduler, in one process.
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
	stopProfile, err := profiling.Start("grim-controller", os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim-controller:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = newRootCmd().ExecuteContext(ctx)
	stop()
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim-controller:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "grim-controller",
		Short:         "Grim Reaper controller: REST API, dashboard and agent endpoint",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), buildinfo.String("grim-controller"))
		},
	})
	return root
}
