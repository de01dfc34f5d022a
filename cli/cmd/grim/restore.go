package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/cli/internal/client"
)

type restoreView struct {
	ID            string   `json:"id"`
	BackupID      string   `json:"backup_id"`
	Status        string   `json:"status"`
	Progress      float64  `json:"progress"`
	BytesRestored int64    `json:"bytes_restored"`
	BytesTotal    int64    `json:"bytes_total"`
	FilesRestored int64    `json:"files_restored"`
	Skipped       []string `json:"skipped"`
	Warnings      []string `json:"warnings"`
	Error         *string  `json:"error"`
	CreatedAt     string   `json:"created_at"`
}

// getRestore reads a restore, waiting up to wait seconds on the server for it to end.
func getRestore(ctx context.Context, c *client.Client, id string, wait int) (restoreView, error) {
	var reply struct {
		Restore restoreView `json:"restore"`
	}
	err := c.Do(ctx, "GET", "/api/restore/"+url.PathEscape(id)+waitQuery(wait), nil, &reply)
	return reply.Restore, err
}

func fetchRestore(ctx context.Context, c *client.Client, id string, wait int) (jobState, error) {
	r, err := getRestore(ctx, c, id, wait)
	if err != nil {
		return jobState{}, err
	}
	st := jobState{Status: r.Status, Progress: r.Progress, BytesDone: r.BytesRestored,
		BytesTotal: r.BytesTotal}
	if r.Error != nil {
		st.Error = *r.Error
	}
	return st, nil
}

func showRestore(ctx context.Context, cmd *cobra.Command, g *globalOptions, c *client.Client,
	id string) error {
	out := cmd.OutOrStdout()
	if g.json {
		var reply struct {
			Restore json.RawMessage `json:"restore"`
		}
		if err := c.Do(ctx, "GET", "/api/restore/"+url.PathEscape(id), nil, &reply); err != nil {
			return err
		}
		return printJSON(out, reply.Restore)
	}
	r, err := getRestore(ctx, c, id, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restore %s of backup %s: %s, %.0f%%\n  files %d, bytes %s\n", r.ID,
		r.BackupID, r.Status, r.Progress, r.FilesRestored, humanBytes(r.BytesRestored))
	if len(r.Skipped) > 0 {
		fmt.Fprintf(out, "  %d existing entries left alone (use --overwrite)\n", len(r.Skipped))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
	if r.Error != nil {
		fmt.Fprintf(out, "  error: %s\n", *r.Error)
	}
	return nil
}

func newRestoreCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "restore", Short: "Start, watch and list restores"}
	cmd.AddCommand(newRestoreCreateCmd(g), newRestoreStatusCmd(g), newRestoreListCmd(g))
	return cmd
}

// restoreCreateOptions are the flags of `grim restore create`.
type restoreCreateOptions struct {
	to        string
	agent     string
	overwrite bool
	noTimes   bool
	noPerms   bool
	wait      bool
}

func newRestoreCreateCmd(g *globalOptions) *cobra.Command {
	o := &restoreCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create BACKUP --to PATH",
		Short: "Restore a backup into a directory; --wait follows it to the end",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "directory to restore into (on the agent)")
	f.StringVar(&o.agent, "agent", "", "agent that restores (default: the one that backed up)")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace existing files")
	f.BoolVar(&o.noTimes, "no-timestamps", false, "do not restore modification times")
	f.BoolVar(&o.noPerms, "no-permissions", false, "do not restore modes and owners")
	f.BoolVar(&o.wait, "wait", false, "wait for the restore to finish, showing progress")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (o *restoreCreateOptions) run(cmd *cobra.Command, g *globalOptions, backupID string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	body := map[string]any{
		"backup_id": backupID,
		"targets": []map[string]any{{"type": "filesystem", "path": o.to, "options": map[string]any{
			"overwrite_existing": o.overwrite, "preserve_timestamps": !o.noTimes,
			"preserve_permissions": !o.noPerms,
		}}},
	}
	if o.agent != "" {
		body["agent"] = o.agent
	}
	var reply struct {
		RestoreID string `json:"restore_id"`
		Status    string `json:"status"`
	}
	ctx := cmd.Context()
	if err := c.Do(ctx, "POST", "/api/restore/create", body, &reply); err != nil {
		return err
	}
	if !o.wait {
		if g.json {
			return printJSON(cmd.OutOrStdout(), reply)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "restore %s %s\n", reply.RestoreID, reply.Status)
		return nil
	}
	return finishWait(ctx, cmd, g, c, "restore", reply.RestoreID, fetchRestore, showRestore)
}

func newRestoreStatusCmd(g *globalOptions) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a restore; --wait follows it to the end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if wait {
				return finishWait(cmd.Context(), cmd, g, c, "restore", args[0], fetchRestore,
					showRestore)
			}
			return showRestore(cmd.Context(), cmd, g, c, args[0])
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the restore to finish")
	return cmd
}

func newRestoreListCmd(g *globalOptions) *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List restores, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {"100"}}
			if status != "" {
				q.Set("status", status)
			}
			var reply struct {
				Restores []restoreView `json:"restores"`
			}
			if err := g.do(cmd.Context(), "GET", "/api/restores?"+q.Encode(), nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tBACKUP\tSTATUS\tFILES\tBYTES\tCREATED")
			for _, r := range reply.Restores {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.BackupID, r.Status,
					r.FilesRestored, humanBytes(r.BytesRestored), r.CreatedAt)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only restores in this state")
	return cmd
}
