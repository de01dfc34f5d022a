package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/agent/internal/link"
	"github.com/grim-reaper/grim/internal/config"
	"github.com/grim-reaper/grim/protocol/transport"
)

// enrollOptions are the flags of `grim-agent enroll`.
type enrollOptions struct {
	controller string
	token      string
	stateDir   string
	name       string
	transport  string
	configFile string
}

func newEnrollCmd() *cobra.Command {
	o := &enrollOptions{}
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Redeem a join token, save the identity and the settings file, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadSettings(cmd); err != nil {
				return err
			}
			o.configFile, _ = cmd.Flags().GetString(config.FlagName)
			return o.run(cmd.Context(), cmd)
		},
	}
	f := cmd.Flags()
	config.AddFlag(f, defaultConfigFile)
	f.StringVar(&o.controller, "controller", "", "controller agent endpoint, HOST:PORT")
	f.StringVar(&o.token, "token", "", "one-time join token")
	f.StringVar(&o.stateDir, "state-dir", defaultStateDir, "where the agent keeps its identity")
	f.StringVar(&o.name, "name", "", "agent name (default: the host name)")
	f.StringVar(&o.transport, "transport", "auto", "auto, quic or tcp")
	// run's logging settings, accepted so that both commands read one settings file.
	f.String("log-level", "info", "unused by enroll")
	f.String("log-format", "text", "unused by enroll")
	_ = f.MarkHidden("log-level")
	_ = f.MarkHidden("log-format")
	return cmd
}

func (o *enrollOptions) run(ctx context.Context, cmd *cobra.Command) error {
	if o.controller == "" || o.token == "" {
		return errors.New("enroll needs --controller and --token")
	}
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
	if err := matchOwner(o.stateDir); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "enrolled as %s (%s); identity saved in %s\n", id.Name, id.AgentID,
		o.stateDir)
	if o.configFile == "" {
		return nil
	}
	if err := o.saveSettings(); err != nil {
		return err
	}
	fmt.Fprintf(out, "settings saved in %s\n", o.configFile)
	return nil
}

// saveSettings writes what `run` needs into the settings file, so the service starts
// with no flags. The token is left out: it is spent.
func (o *enrollOptions) saveSettings() error {
	return config.Update(o.configFile, map[string]string{
		"controller": o.controller, "state-dir": o.stateDir, "name": o.name,
		"transport": o.transport,
	}, []string{"controller", "state-dir", "name", "transport"})
}
