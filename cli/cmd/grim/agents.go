package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

type agent struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Hostname  string   `json:"hostname"`
	Version   string   `json:"version"`
	Outdated  bool     `json:"outdated"`
	Status    string   `json:"status"`
	Transport string   `json:"transport"`
	LastSeen  *string  `json:"last_seen"`
	RTTMillis *float64 `json:"rtt_ms"`
}

func newAgentsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "agents", Short: "Enrol, list, ping and revoke agents"}
	cmd.AddCommand(newAgentsListCmd(g), newAgentsTokenCmd(g), newAgentsRevokeCmd(g),
		newAgentsPingCmd(g))
	return cmd
}

func newAgentsListCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List agents with their status and transport",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reply struct {
				Agents []agent `json:"agents"`
				Total  int     `json:"total"`
			}
			if err := g.do(cmd.Context(), "GET", "/api/agents?limit=100", nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tTRANSPORT\tVERSION\tLAST SEEN")
			for _, a := range reply.Agents {
				version := a.Version
				if a.Outdated {
					version += " (outdated)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Status,
					a.Transport, version, orDash(a.LastSeen))
			}
			return tw.Flush()
		},
	}
}

func newAgentsTokenCmd(g *globalOptions) *cobra.Command {
	var ttl int
	var install bool
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create a one-time join token for a new agent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reply struct {
				Token          string `json:"token"`
				ExpiresAt      string `json:"expires_at"`
				InstallCommand string `json:"install_command"`
			}
			body := map[string]any{"ttl_seconds": ttl}
			if err := g.do(cmd.Context(), "POST", "/api/agents/tokens", body, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			if install {
				fmt.Fprintln(cmd.OutOrStdout(), reply.InstallCommand)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), reply.Token)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "expires at %s; usable once\n", reply.ExpiresAt)
			return nil
		},
	}
	cmd.Flags().IntVar(&ttl, "ttl", 3600, "seconds the token stays valid")
	cmd.Flags().BoolVar(&install, "install", false,
		"print the one-line command that installs and enrols the agent on a host instead")
	return cmd
}

func newAgentsRevokeCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an agent: its certificate is refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.do(cmd.Context(), "DELETE", "/api/agents/"+url.PathEscape(args[0]),
				nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked agent %s\n", args[0])
			return nil
		},
	}
}

func newAgentsPingCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "ping ID",
		Short: "Run a ping job on an agent and print the round-trip time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var reply struct {
				AgentID string  `json:"agent_id"`
				RTTms   float64 `json:"rtt_ms"`
			}
			path := "/api/agents/" + url.PathEscape(args[0]) + "/ping"
			if err := g.do(cmd.Context(), "POST", path, nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %.2f ms\n", reply.AgentID, reply.RTTms)
			return nil
		},
	}
}
