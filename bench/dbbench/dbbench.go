// Package dbbench measures how database backups deduplicate: it fills a real database,
// backs it up through a running Grim Reaper, changes a share of its rows, backs it up
// again, and reports what each backup stored. The target is that a second dump after a
// 1% change stores under a tenth of the first one's bytes.
package dbbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/grim-reaper/grim/bench/grim"
	"github.com/grim-reaper/grim/internal/dbtest"
)

// TargetRatio is the most a second backup after a 1% change may store, as a share of the
// first.
const TargetRatio = 0.10

// Step is one backup of the run.
type Step struct {
	Name        string  `json:"name"`
	DumpBytes   int64   `json:"dump_bytes"`
	StoredBytes int64   `json:"stored_bytes"`
	ChunksNew   int64   `json:"chunks_new"`
	ChunksTotal int64   `json:"chunks_total"`
	Seconds     float64 `json:"seconds"`
}

// Result is the run on one engine.
type Result struct {
	Engine string `json:"engine"`
	Rows   int    `json:"rows"`
	Steps  []Step `json:"steps"`
	// Ratio is the 1% change's stored bytes over the first backup's.
	Ratio float64 `json:"ratio"`
	Pass  bool    `json:"pass"`
}

type backupReply struct {
	Backup struct {
		Status          string   `json:"status"`
		Error           *string  `json:"error"`
		StoredBytes     int64    `json:"stored_bytes"`
		ChunksNew       int64    `json:"chunks_new"`
		ChunksTotal     int64    `json:"chunks_total"`
		SizeBytes       int64    `json:"size_bytes"`
		DurationSeconds *float64 `json:"duration_seconds"`
	} `json:"backup"`
}

// Run measures one engine's server with a database of customers×3.2 rows, made and
// dropped for the run.
func Run(ctx context.Context, c *grim.Cluster, s *dbtest.Server, customers int,
	log io.Writer) (*Result, error) {
	db := dbtest.Name("grim_bench")
	if _, err := s.Query(ctx, "", "CREATE DATABASE "+s.Quote(db)); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	defer func() {
		_, _ = s.Query(context.WithoutCancel(ctx), "", "DROP DATABASE "+s.Quote(db))
	}()
	fmt.Fprintf(log, "%s: filling %s with %d rows\n", s.Engine, db, customers*16/5)
	if _, err := s.Query(ctx, db, dbtest.FillSQL(s.Engine, customers)); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	res := &Result{Engine: s.Engine, Rows: customers * 16 / 5}
	changes := []struct{ name, sql string }{
		{"initial", ""},
		{"1% of orders changed, in one run", dbtest.ChangeSQL(customers, 1)},
		{"unchanged", ""},
		{"1% of orders changed, scattered", dbtest.ScatterSQL(100)},
	}
	for _, ch := range changes {
		if ch.sql != "" {
			if _, err := s.Query(ctx, db, ch.sql); err != nil {
				return nil, fmt.Errorf("change: %w", err)
			}
		}
		st, err := backup(ctx, c, s, db)
		if err != nil {
			return nil, fmt.Errorf("%s backup: %w", ch.name, err)
		}
		st.Name = ch.name
		fmt.Fprintf(log, "%s: %s: dump %.1f MB, stored %.2f MB in %.1fs\n", s.Engine, st.Name,
			float64(st.DumpBytes)/1e6, float64(st.StoredBytes)/1e6, st.Seconds)
		res.Steps = append(res.Steps, *st)
	}
	res.Ratio = float64(res.Steps[1].StoredBytes) / float64(res.Steps[0].StoredBytes)
	res.Pass = res.Ratio < TargetRatio
	return res, nil
}

func backup(ctx context.Context, c *grim.Cluster, s *dbtest.Server, db string) (*Step, error) {
	body := map[string]any{"agent": c.AgentName(), "sources": []any{map[string]any{
		"type": "database", "engine": s.Engine, "connection": map[string]any{
			"host": s.Host, "port": s.Port, "database": db, "username": s.User}}}}
	var created struct {
		BackupID string `json:"backup_id"`
	}
	if err := c.Call(ctx, "POST", "/api/backup/create", body, &created); err != nil {
		return nil, err
	}
	start := time.Now()
	for {
		var b backupReply
		if err := c.Call(ctx, "GET", "/api/backup/"+created.BackupID, nil, &b); err != nil {
			return nil, err
		}
		switch b.Backup.Status {
		case "completed":
			return &Step{DumpBytes: b.Backup.SizeBytes, StoredBytes: b.Backup.StoredBytes,
				ChunksNew: b.Backup.ChunksNew, ChunksTotal: b.Backup.ChunksTotal,
				Seconds: time.Since(start).Seconds()}, nil
		case "failed", "canceled":
			msg := ""
			if b.Backup.Error != nil {
				msg = *b.Backup.Error
			}
			return nil, errors.New(b.Backup.Status + ": " + msg)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Print writes the results as a table.
func Print(w io.Writer, results []*Result) {
	fmt.Fprintln(w, "\nDatabase dumps: what each backup stored (compressed, encrypted)")
	fmt.Fprintf(w, "%-9s %-34s %10s %12s %10s %8s\n", "engine", "backup", "dump MB", "stored MB",
		"new chunks", "seconds")
	for _, r := range results {
		for _, s := range r.Steps {
			fmt.Fprintf(w, "%-9s %-34s %10.1f %12.3f %10d %8.1f\n", r.Engine, s.Name,
				float64(s.DumpBytes)/1e6, float64(s.StoredBytes)/1e6, s.ChunksNew, s.Seconds)
		}
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%-9s 1%% change stored %.1f%% of the first backup (target < %.0f%%): %s\n",
			r.Engine, 100*r.Ratio, 100*TargetRatio, verdict)
	}
}
