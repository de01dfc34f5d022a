package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/agent/internal/dbdump"
	"github.com/grim-reaper/grim/agent/internal/identity"
	"github.com/grim-reaper/grim/agent/internal/jobs"
	"github.com/grim-reaper/grim/agent/internal/link"
	"github.com/grim-reaper/grim/internal/config"
	"github.com/grim-reaper/grim/internal/logging"
	"github.com/grim-reaper/grim/protocol/transport"
)

// runOptions are the flags of `grim-agent run`.
type runOptions struct {
	controller string
	token      string
	stateDir   string
	name       string
	transport  string
	logLevel   string
	logFormat  string
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Enrol if needed, then stay connected to the controller and do its jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadSettings(cmd); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	config.AddFlag(f, defaultConfigFile)
	f.StringVar(&o.controller, "controller", "", "controller agent endpoint, HOST:PORT")
	f.StringVar(&o.token, "token", "", "one-time join token (first start only)")
	f.StringVar(&o.stateDir, "state-dir", defaultStateDir, "where the agent keeps its identity")
	f.StringVar(&o.name, "name", "", "agent name (default: the host name)")
	f.StringVar(&o.transport, "transport", "auto", "auto, quic or tcp")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "text, json or journal (systemd)")
	return cmd
}

func (o *runOptions) run(ctx context.Context) error {
	log, err := logging.New(os.Stderr, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	mode, err := transport.ParseMode(o.transport)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	id, err := loadOrEnroll(ctx, o, mode, host, log)
	if err != nil {
		return err
	}
	caps := dbdump.Detect(ctx)
	log.Info("agent starting", "agent_id", id.AgentID, "name", id.Name, "transport", string(mode),
		"database_tools", len(caps.Tools))
	return link.Run(ctx, link.Config{
		Identity: id, Controller: o.controller, Mode: mode, Hostname: host,
		Capabilities: caps,
		Jobs: jobs.NewRegistry(jobs.Config{StateDir: o.stateDir, Logger: log,
			Tools: caps}),
		Logger: log,
	})
}

// loadOrEnroll returns the saved identity, or enrols with the token when there is none.
func loadOrEnroll(ctx context.Context, o *runOptions, mode transport.Mode, host string,
	log *slog.Logger) (*identity.Identity, error) {
	id, err := identity.Load(o.stateDir)
	if err == nil {
		if o.token != "" {
			log.Info("already enrolled; ignoring --token", "agent_id", id.AgentID)
		}
		return id, nil
	}
	if !errors.Is(err, identity.ErrNotEnrolled) {
		return nil, err
	}
	if o.token == "" || o.controller == "" {
		return nil, &exitError{code: exitNotEnrolled, err: fmt.Errorf(
			"not enrolled yet: run `grim-agent enroll`, or give --controller and --token")}
	}
	name := o.name
	if name == "" {
		name = host
	}
	id, err = link.Enroll(ctx, link.EnrollOptions{
		Controller: o.controller, Token: o.token, Name: name, Hostname: host,
		StateDir: o.stateDir, Mode: mode,
	})
	if err != nil {
		return nil, err
	}
	log.Info("agent enrolled", "agent_id", id.AgentID, "name", id.Name)
	return id, nil
}
