// Package buildinfo holds the version and commit that every Grim Reaper binary reports.
// The Makefile sets them with -ldflags; a plain `go build` reports a development version.
package buildinfo

import "fmt"

// Version and Commit are set at link time:
//
//	-X github.com/grim-reaper/grim/internal/buildinfo.Version=1.2.3
var (
	Version = "0.1.0-dev"
	Commit  = "unknown"
)

// String is the one-line form printed by each binary's version command.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s)", program, Version, Commit)
}
