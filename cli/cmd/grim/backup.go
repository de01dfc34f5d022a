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

type backupView struct {
	ID          string  `json:"id"`
	AgentID     string  `json:"agent_id"`
	Status      string  `json:"status"`
	Progress    float64 `json:"progress"`
	SizeBytes   int64   `json:"size_bytes"`
	BytesDone   int64   `json:"bytes_done"`
	StoredBytes int64   `json:"stored_bytes"`
	Files       int64   `json:"files"`
	ChunksTotal int64   `json:"chunks_total"`
	ChunksNew   int64   `json:"chunks_new"`
	Error       string  `json:"error"`
	PolicyID    *string `json:"policy_id"`
	CreatedAt   string  `json:"created_at"`
}

func fetchBackup(ctx context.Context, c *client.Client, id string, wait int) (jobState, error) {
	var reply struct {
		Backup backupView `json:"backup"`
	}
	path := "/api/backup/" + url.PathEscape(id) + waitQuery(wait)
	if err := c.Do(ctx, "GET", path, nil, &reply); err != nil {
		return jobState{}, err
	}
	b := reply.Backup
	return jobState{Status: b.Status, Progress: b.Progress, BytesDone: b.BytesDone,
		BytesTotal: b.SizeBytes, Error: b.Error}, nil
}

func newBackupCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Start, watch, list, cancel and delete backups"}
	cmd.AddCommand(newBackupCreateCmd(g), newBackupStatusCmd(g), newBackupListCmd(g),
		newBackupCancelCmd(g), newBackupDeleteCmd(g))
	return cmd
}

// backupCreateOptions are the flags of `grim backup create`.
type backupCreateOptions struct {
	agent       string
	excludes    []string
	compression string
	retention   int
	wait        bool
}

func newBackupCreateCmd(g *globalOptions) *cobra.Command {
	o := &backupCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create PATH...",
		Short: "Back up paths of an agent; --wait follows it to the end",
		Args:  cobra.MinimumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.agent, "agent", "", "agent name or id (default: the only agent)")
	f.StringSliceVar(&o.excludes, "exclude", nil, "shell glob to leave out (repeatable)")
	f.StringVar(&o.compression, "compression", "zstd", "zstd, gzip or none")
	f.IntVar(&o.retention, "retention-days", 0, "keep the backup this many days")
	f.BoolVar(&o.wait, "wait", false, "wait for the backup to finish, showing progress")
	return cmd
}

func (o *backupCreateOptions) run(cmd *cobra.Command, g *globalOptions, paths []string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	source := map[string]any{"type": "filesystem", "paths": paths}
	if len(o.excludes) > 0 {
		source["exclude"] = o.excludes
	}
	body := map[string]any{
		"sources": []map[string]any{source},
		"options": map[string]any{"compression": o.compression, "retention_days": o.retention},
	}
	if o.agent != "" {
		body["agent"] = o.agent
	}
	var reply struct {
		BackupID          string `json:"backup_id"`
		Status            string `json:"status"`
		EstimatedDuration string `json:"estimated_duration"`
	}
	ctx := cmd.Context()
	if err := c.Do(ctx, "POST", "/api/backup/create", body, &reply); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if !o.wait {
		if g.json {
			return printJSON(out, reply)
		}
		fmt.Fprintf(out, "backup %s %s (estimated %s)\n", reply.BackupID, reply.Status,
			reply.EstimatedDuration)
		return nil
	}
	return finishWait(ctx, cmd, g, c, "backup", reply.BackupID, fetchBackup, showBackup)
}

// finishWait waits for a job, then prints it as JSON or as text.
func finishWait(ctx context.Context, cmd *cobra.Command, g *globalOptions, c *client.Client,
	kind, id string, fetch fetchFunc,
	show func(context.Context, *cobra.Command, *globalOptions, *client.Client, string) error) error {
	_, werr := waitJob(ctx, c, kind, id, cmd.ErrOrStderr(), g.json, fetch)
	if err := show(ctx, cmd, g, c, id); err != nil {
		return err
	}
	return werr
}

func showBackup(ctx context.Context, cmd *cobra.Command, g *globalOptions, c *client.Client,
	id string) error {
	var reply struct {
		Backup json.RawMessage `json:"backup"`
	}
	if err := c.Do(ctx, "GET", "/api/backup/"+url.PathEscape(id), nil, &reply); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if g.json {
		return printJSON(out, reply.Backup)
	}
	var b backupView
	if err := json.Unmarshal(reply.Backup, &b); err != nil {
		return fmt.Errorf("decode backup: %w", err)
	}
	fmt.Fprintf(out, "backup %s: %s, %.0f%%\n  files %d, size %s, stored %s, chunks %d (%d new)\n",
		b.ID, b.Status, b.Progress, b.Files, humanBytes(b.SizeBytes), humanBytes(b.StoredBytes),
		b.ChunksTotal, b.ChunksNew)
	if b.Error != "" {
		fmt.Fprintf(out, "  error: %s\n", b.Error)
	}
	return nil
}

func newBackupStatusCmd(g *globalOptions) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a backup; --wait follows it to the end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if wait {
				return finishWait(cmd.Context(), cmd, g, c, "backup", args[0], fetchBackup, showBackup)
			}
			return showBackup(cmd.Context(), cmd, g, c, args[0])
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the backup to finish")
	return cmd
}

func newBackupListCmd(g *globalOptions) *cobra.Command {
	var status, policyID string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List backups, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			if status != "" {
				q.Set("status", status)
			}
			if policyID != "" {
				q.Set("policy_id", policyID)
			}
			var reply struct {
				Backups []backupView `json:"backups"`
				Total   int          `json:"total"`
			}
			if err := g.do(cmd.Context(), "GET", "/api/backups?"+q.Encode(), nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tPROGRESS\tSIZE\tSTORED\tCREATED\tPOLICY")
			for _, b := range reply.Backups {
				fmt.Fprintf(tw, "%s\t%s\t%.0f%%\t%s\t%s\t%s\t%s\n", b.ID, b.Status, b.Progress,
					humanBytes(b.SizeBytes), humanBytes(b.StoredBytes), b.CreatedAt,
					orDash(b.PolicyID))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only backups in this state")
	cmd.Flags().StringVar(&policyID, "policy", "", "only the backups this policy started")
	cmd.Flags().IntVar(&limit, "limit", 50, "how many (at most 100)")
	return cmd
}

func newBackupCancelCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a queued or running backup",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/backup/" + url.PathEscape(args[0]) + "/cancel"
			if err := g.do(cmd.Context(), "POST", path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancel requested for backup %s\n", args[0])
			return nil
		},
	}
}

func newBackupDeleteCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a finished backup now; its space returns at the next garbage collection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var reply struct {
				BackupID string `json:"backup_id"`
			}
			path := "/api/backup/" + url.PathEscape(args[0])
			if err := g.do(cmd.Context(), "DELETE", path, nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted backup %s; its space returns at the next "+
				"garbage collection (grim storage gc)\n", reply.BackupID)
			return nil
		},
	}
}
