package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/cli/internal/client"
)

// policyView is a policy as the API shows it, for printing.
type policyView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	AgentID   string         `json:"agent_id"`
	Sources   []sourceView   `json:"sources"`
	Options   map[string]any `json:"options"`
	Schedule  string         `json:"schedule"`
	Timezone  string         `json:"timezone"`
	Retention map[string]int `json:"retention"`
	NextRunAt string         `json:"next_run_at"`
	LastRunAt *string        `json:"last_run_at"`
}

// sourceView is one source of a policy, without any password.
type sourceView struct {
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	Paths      []string `json:"paths"`
	Exclude    []string `json:"exclude"`
	Engine     string   `json:"engine"`
	Connection *struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Database string `json:"database"`
	} `json:"connection"`
}

func newPolicyCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "policy",
		Short: "Create, list, show, update and delete scheduled backups with retention"}
	cmd.AddCommand(newPolicyCreateCmd(g), newPolicyListCmd(g), newPolicyShowCmd(g),
		newPolicyUpdateCmd(g), newPolicyDeleteCmd(g))
	return cmd
}

// policyCreateOptions are the flags of `grim policy create`.
type policyCreateOptions struct {
	policyFlags
}

func newPolicyCreateCmd(g *globalOptions) *cobra.Command {
	o := &policyCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --name NAME --schedule CRON --path PATH... | --file POLICY.json",
		Short: "Create a policy that backs up on a schedule and keeps what its rules say",
		Long: "Create a policy from flags, or from --file holding the body of POST " +
			"/api/policies; flags given with --file change the file's body.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *policyCreateOptions) run(cmd *cobra.Command, g *globalOptions) error {
	body := map[string]any{}
	if o.file != "" {
		var err error
		if body, err = o.readFile(cmd.InOrStdin()); err != nil {
			return err
		}
	}
	o.apply(cmd.Flags(), body)
	var reply struct {
		Policy json.RawMessage `json:"policy"`
	}
	if err := g.do(cmd.Context(), "POST", "/api/policies", body, &reply); err != nil {
		return err
	}
	return printPolicy(cmd.OutOrStdout(), g, "created", reply.Policy)
}

// policyUpdateOptions are the flags of `grim policy update`.
type policyUpdateOptions struct {
	policyFlags
}

func newPolicyUpdateCmd(g *globalOptions) *cobra.Command {
	o := &policyUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update ID [flags]",
		Short: "Change a policy: only the settings given change; its next run is worked out anew",
		Long: "Change a policy. The API replaces a policy whole, so the command reads it, " +
			"changes what the flags give and sends it back; --file gives the whole new " +
			"body instead (flags given with it change it).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args[0]) },
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *policyUpdateOptions) run(cmd *cobra.Command, g *globalOptions, id string) error {
	f := cmd.Flags()
	if !o.changed(f) {
		return errors.New("nothing to change: give the settings to change, or --file")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	path := "/api/policies/" + url.PathEscape(id)
	var body map[string]any
	if o.file != "" {
		body, err = o.readFile(cmd.InOrStdin())
	} else {
		body, err = currentPolicy(ctx, c, path)
	}
	if err != nil {
		return err
	}
	o.apply(f, body)
	var reply struct {
		Policy json.RawMessage `json:"policy"`
	}
	if err := c.Do(ctx, "PUT", path, body, &reply); err != nil {
		return err
	}
	return printPolicy(cmd.OutOrStdout(), g, "updated", reply.Policy)
}

// currentPolicy reads the policy at path as the body PUT takes.
func currentPolicy(ctx context.Context, c *client.Client, path string) (map[string]any, error) {
	var reply struct {
		Policy map[string]any `json:"policy"`
	}
	if err := c.Do(ctx, "GET", path, nil, &reply); err != nil {
		return nil, err
	}
	return requestOf(reply.Policy), nil
}

// printPolicy prints a policy of a reply: as JSON, or as a line saying what was done.
func printPolicy(out io.Writer, g *globalOptions, done string, raw json.RawMessage) error {
	if g.json {
		return printJSON(out, raw)
	}
	var p policyView
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("decode policy: %w", err)
	}
	fmt.Fprintf(out, "%s policy %s (%s); next run %s\n", done, p.ID, p.Name, p.NextRunAt)
	return nil
}

func newPolicyListCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List policies by name, with their schedules and next runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reply struct {
				Policies []json.RawMessage `json:"policies"`
				Total    int               `json:"total"`
			}
			if err := g.do(cmd.Context(), "GET", "/api/policies?limit=100", nil,
				&reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			return policyTable(cmd.OutOrStdout(), reply.Policies)
		},
	}
}

func policyTable(out io.Writer, list []json.RawMessage) error {
	policies, err := decodeEach[policyView](list, "policy")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCHEDULE\tTIMEZONE\tNEXT RUN\tLAST RUN\tKEEP")
	for _, p := range policies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Schedule, p.Timezone,
			p.NextRunAt, orDash(p.LastRunAt), keepRules(p.Retention))
	}
	return tw.Flush()
}

// keepRules writes retention rules as their flags, "all" when there is none.
func keepRules(r map[string]int) string {
	var parts []string
	for _, rule := range retentionRules {
		if n := r[rule.key]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", strings.TrimPrefix(rule.flag, "keep-"), n))
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

func newPolicyShowCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a policy: its sources, schedule, keep rules and next run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var reply struct {
				Policy json.RawMessage `json:"policy"`
			}
			path := "/api/policies/" + url.PathEscape(args[0])
			if err := g.do(cmd.Context(), "GET", path, nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply.Policy)
			}
			var p policyView
			if err := json.Unmarshal(reply.Policy, &p); err != nil {
				return fmt.Errorf("decode policy: %w", err)
			}
			showPolicy(cmd.OutOrStdout(), p)
			return nil
		},
	}
}

func showPolicy(out io.Writer, p policyView) {
	fmt.Fprintf(out, "policy %s: %s\n  agent     %s\n  schedule  %s (%s)\n", p.ID, p.Name,
		p.AgentID, p.Schedule, p.Timezone)
	fmt.Fprintf(out, "  next run  %s\n  last run  %s\n  keep      %s\n", p.NextRunAt,
		orDash(p.LastRunAt), keepRules(p.Retention))
	if comp, ok := p.Options["compression"].(string); ok {
		fmt.Fprintf(out, "  compress  %s\n", comp)
	}
	for _, s := range p.Sources {
		if c := s.Connection; c != nil {
			fmt.Fprintf(out, "  database  %s (%s %s on %s:%d)\n", s.Name, s.Engine, c.Database,
				c.Host, c.Port)
			continue
		}
		fmt.Fprintf(out, "  paths     %s\n", strings.Join(s.Paths, " "))
		if len(s.Exclude) > 0 {
			fmt.Fprintf(out, "  exclude   %s\n", strings.Join(s.Exclude, " "))
		}
	}
}

func newPolicyDeleteCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a policy; the backups it made stay until they are deleted",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/policies/" + url.PathEscape(args[0])
			if err := g.do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"policy_id": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted policy %s; its backups stay\n", args[0])
			return nil
		},
	}
}
