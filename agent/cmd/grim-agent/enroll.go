package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/agent/internal/link"
	"github.com/grim-reaper/grim/protocol/transport"
)

// enrollOptions are the flags of `grim-agent enroll`.
type enrollOptions struct {
	controller string
	token      string
	stateDir   string
	name       string
	transport  string
}

func newEnrollCmd() *cobra.Command {
	o := &enrollOptions{}
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Redeem a join token and save the agent's identity, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.controller, "controller", "", "controller agent endpoint, HOST:PORT")
	f.StringVar(&o.token, "token", "", "one-time join token")
	f.StringVar(&o.stateDir, "state-dir", "/var/lib/grim-agent", "where the agent keeps its identity")
	f.StringVar(&o.name, "name", "", "agent name (default: the host name)")
	f.StringVar(&o.transport, "transport", "auto", "auto, quic or tcp")
	_ = cmd.MarkFlagRequired("controller")
	_ = cmd.MarkFlagRequired("token")
	return cmd
}

func (o *enrollOptions) run(ctx context.Context, cmd *cobra.Command) error {
	mode, err := transport.ParseMode(o.transport)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	name := o.name
	if name == "" {
		name = host
	}
	id, err := link.Enroll(ctx, link.EnrollOptions{
		Controller: o.controller, Token: o.token, Name: name, Hostname: host,
		StateDir: o.stateDir, Mode: mode,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "enrolled as %s (%s); identity saved in %s\n",
		id.Name, id.AgentID, o.stateDir)
	return nil
}
