// Command grim-bench measures Grim Reaper against restic on the same generated data set in
// one run: an initial backup, an unchanged re-backup, a backup after a few percent of the
// data changed, and a full restore, each timed, with the growth of each repository and
// the peak memory of each process. It prints tables, the ratios of Grim Reaper to restic
// and whether Grim Reaper meets its targets, and writes the results as JSON.
//
// It is run by `make bench` through scripts/bench.sh, which builds the binaries and
// installs restic first. It needs Linux (/proc) and, to drop the page cache between
// phases, root.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Getenv).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim-bench:", err)
		os.Exit(1)
	}
}
