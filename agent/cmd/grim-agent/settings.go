package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/internal/config"
)

// Where the agent's settings come from besides its flags: the file, then variables
// named GRIM_AGENT_<FLAG> (GRIM_AGENT_STATE_DIR for --state-dir), which beat the file.
const (
	defaultConfigFile = "/etc/grim/agent.yaml"
	envPrefix         = "GRIM_AGENT_"
	defaultStateDir   = "/var/lib/grim-agent"
)

// exitNotEnrolled is the exit status of `run` when the agent has no identity and no
// token: EX_CONFIG, which the systemd unit lists in RestartPreventExitStatus so that an
// agent waiting for `grim-agent enroll` does not restart in a loop.
const exitNotEnrolled = 78

// exitError carries a process exit status other than 1 up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the process exit status for err.
func exitCode(err error) int {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	return 1
}

// loadSettings fills the command's flags that were not given from the environment and
// the settings file.
func loadSettings(cmd *cobra.Command) error {
	return config.Load(cmd.Flags(), envPrefix, os.Getenv)
}

// matchOwner gives every file under dir the owner of dir itself. `grim-agent enroll` runs
// as root while the service runs as its own user, which owns the state directory the
// package made; this keeps the identity readable by that user without extra privilege.
func matchOwner(dir string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return fmt.Errorf("stat state dir: %w", err)
	}
	if os.Geteuid() != 0 || int(st.Uid) == os.Geteuid() {
		return nil
	}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(st.Uid), int(st.Gid))
	})
	if err != nil {
		return fmt.Errorf("give state to its owner: %w", err)
	}
	return nil
}
