// Command grim is the command-line client of the Grim Reaper REST API.
//
// It reads the controller's address from GRIM_URL (default http://127.0.0.1:8080) and the
// API key from GRIM_API_KEY or the file named by GRIM_API_KEY_FILE.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/grim-reaper/grim/cli/internal/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Getenv).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grim:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode tells scripts what went wrong: 2 for a refused request (bad input, not found,
// auth), 3 when the controller failed, 4 for a backup, restore, garbage collection or
// storage check that failed or a check that found damage, 5 for a backup or restore that
// was canceled, 6 for a license key that is not valid, 1 otherwise (such as a controller
// that cannot be reached).
func exitCode(err error) int {
	var damage *damageError
	if errors.As(err, &damage) {
		return 4
	}
	var jobErr *jobError
	if errors.As(err, &jobErr) {
		if jobErr.status == "canceled" {
			return 5
		}
		return 4
	}
	var licErr *licenseError
	if errors.As(err, &licErr) {
		return 6
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		if apiErr.Status >= 500 {
			return 3
		}
		return 2
	}
	return 1
}
