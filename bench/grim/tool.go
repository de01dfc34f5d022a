package grim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/grim-reaper/grim/bench/proc"
	"github.com/grim-reaper/grim/bench/suite"
	"github.com/grim-reaper/grim/bench/usage"
)

// backupView is the part of `grim --json backup create --wait` the benchmark reads.
type backupView struct {
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	SizeBytes       int64    `json:"size_bytes"`
	StoredBytes     int64    `json:"stored_bytes"`
	Files           int64    `json:"files"`
	ChunksTotal     int64    `json:"chunks_total"`
	ChunksNew       int64    `json:"chunks_new"`
	Warnings        []string `json:"warnings"`
	Error           *string  `json:"error"`
	DurationSeconds *float64 `json:"duration_seconds"`
}

// restoreView is the part of `grim --json restore create --wait` the benchmark reads.
type restoreView struct {
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	BytesRestored   int64    `json:"bytes_restored"`
	FilesRestored   int64    `json:"files_restored"`
	Error           *string  `json:"error"`
	DurationSeconds *float64 `json:"duration_seconds"`
}

// Name is the tool's name in the results.
func (c *Cluster) Name() string { return "grim" }

// Version is what `grim version` printed.
func (c *Cluster) Version() string { return c.version }

// RepoDir is the controller's chunk storage.
func (c *Cluster) RepoDir() string { return filepath.Join(c.dataDir, "storage") }

// RestoredRoot is dst: a backup of one path restores straight into the target.
func (c *Cluster) RestoredRoot(dst, _ string) string { return dst }

// Backup backs up src on the agent with the CLI and waits for the end.
func (c *Cluster) Backup(ctx context.Context, src string) (suite.Outcome, error) {
	var b backupView
	procs, err := c.watched(func() error {
		return c.cliJSON(ctx, &b, "backup", "create", "--agent", agentName, "--wait", src)
	})
	if err != nil {
		return suite.Outcome{}, c.jobError("backup", b.Status, b.Error, err)
	}
	c.lastID = b.ID
	out := suite.Outcome{
		Processes:   procs,
		StoredBytes: &b.StoredBytes,
		Seconds:     b.DurationSeconds,
		Warnings:    b.Warnings,
		Extra:       map[string]int64{"chunks_new": b.ChunksNew, "chunks_total": b.ChunksTotal},
	}
	if meta, err := c.metadataBytes(); err == nil {
		out.Extra["state_bytes"] = meta
	}
	return out, nil
}

// Restore restores the last backup into dst with the CLI and waits for the end.
func (c *Cluster) Restore(ctx context.Context, dst string) (suite.Outcome, error) {
	if c.lastID == "" {
		return suite.Outcome{}, errors.New("restore: no backup yet")
	}
	var r restoreView
	procs, err := c.watched(func() error {
		return c.cliJSON(ctx, &r, "restore", "create", c.lastID, "--to", dst, "--wait")
	})
	if err != nil {
		return suite.Outcome{}, c.jobError("restore", r.Status, r.Error, err)
	}
	return suite.Outcome{Processes: procs, Seconds: r.DurationSeconds}, nil
}

// watched runs op while following the agent and the controller.
func (c *Cluster) watched(op func() error) (map[string]usage.Process, error) {
	w := usage.Watch(c.pids())
	err := op()
	return w.Stop(), err
}

// metadataBytes is the size of the controller's state outside the chunk storage: the
// SQLite database with the blob index, keys and certificates.
func (c *Cluster) metadataBytes() (int64, error) {
	all, err := suite.DiskUsage(c.dataDir)
	if err != nil {
		return 0, err
	}
	storage, err := suite.DiskUsage(c.RepoDir())
	return all - storage, err
}

// jobError explains a backup or restore that did not complete, with the product's logs.
func (c *Cluster) jobError(kind, status string, msg *string, err error) error {
	detail := ""
	if msg != nil {
		detail = ": " + *msg
	}
	return fmt.Errorf("%s ended %q%s: %w\n%s", kind, status, detail, err, c.LogTails())
}

// cli runs the grim client against the controller.
func (c *Cluster) cli(ctx context.Context, args ...string) (proc.Result, error) {
	env := []string{"GRIM_URL=http://" + c.httpAddr,
		"GRIM_API_KEY_FILE=" + filepath.Join(c.dataDir, "admin-api-key")}
	res, err := proc.Run(ctx, env, filepath.Join(c.bin, "grim"), args...)
	if err != nil {
		return res, fmt.Errorf("grim %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(res.Stderr)))
	}
	return res, nil
}

// cliJSON runs the client with --json and decodes what it printed into v, even when the
// command failed, since a failed job still prints its state.
func (c *Cluster) cliJSON(ctx context.Context, v any, args ...string) error {
	res, err := c.cli(ctx, append([]string{"--json"}, args...)...)
	if len(res.Stdout) > 0 {
		if jerr := json.Unmarshal(res.Stdout, v); jerr != nil && err == nil {
			err = fmt.Errorf("decode output of grim %s: %w", strings.Join(args, " "), jerr)
		}
	}
	return err
}
