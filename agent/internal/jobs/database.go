package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/grim-reaper/grim/agent/internal/backup"
	"github.com/grim-reaper/grim/agent/internal/dbdump"
	"github.com/grim-reaper/grim/agent/internal/remote"
	"github.com/grim-reaper/grim/agent/internal/restore"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// credDir is the directory, below the state directory, where database tools' credential
// files live while a tool runs.
const credDir = "dbcred"

// dbConfig is the configuration of the database tools. Their credential files go to a
// private directory in the agent's state, so that one left behind by a crash stays
// private and is removed at the next start (see clearCredentials).
func (r *Registry) dbConfig() dbdump.Config {
	cfg := dbdump.Config{Tools: r.cfg.Tools, Logger: r.cfg.Logger}
	if r.cfg.StateDir != "" {
		dir := filepath.Join(r.cfg.StateDir, credDir)
		if err := os.MkdirAll(dir, 0o700); err == nil {
			cfg.TempDir = dir
		}
	}
	return cfg
}

// clearCredentials removes credential files a crashed agent left behind.
func clearCredentials(stateDir string) error {
	if stateDir == "" {
		return nil
	}
	return os.RemoveAll(filepath.Join(stateDir, credDir))
}

// checkDumpTools fails when the agent lacks the tool of one of the databases.
func (r *Registry) checkDumpTools(dbs []protocol.DatabaseSource) error {
	for _, db := range dbs {
		if _, err := r.dbConfig().Tool(dbdump.DumpTools(db.Conn.Engine)...); err != nil {
			return fmt.Errorf("database %s: %w", db.Name, err)
		}
	}
	return nil
}

// checkRestoreTools fails when the agent lacks a client a database target needs.
func (r *Registry) checkRestoreTools(dbs []protocol.DatabaseRestore) error {
	for _, db := range dbs {
		for _, group := range dbdump.RestoreTools(db.Conn.Engine) {
			if _, err := r.dbConfig().Tool(group...); err != nil {
				return fmt.Errorf("database %s: %w", db.Conn.Database, err)
			}
		}
	}
	return nil
}

// dumpDatabase streams one database's dump into the store. The dump tool's failure fails
// the source even when every byte it wrote is stored: its output may be cut short.
func (r *Registry) dumpDatabase(ctx context.Context, job *protocol.Job, env Env,
	spec *protocol.BackupSpec, codec *blob.Codec, client *remote.Client,
	src protocol.DatabaseSource, index int, bytesBefore int64) (*protocol.SourceReport, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := r.cfg.Logger.With("component", "jobs", "job_id", job.ID, "source", src.Name)
	start := r.cfg.Now()
	d, err := dbdump.Start(ctx, r.dbConfig(), src.Conn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", src.Name, err)
	}
	log.Info("database dump started", "tool", d.Tool.Name, "engine", src.Conn.Engine)
	res, serr := backup.Stream(ctx, d, backup.StreamOptions{
		Codec: codec, Polynomial: spec.Keys.Polynomial, Store: client, Logger: r.cfg.Logger,
		Progress: func(done int64) {
			sendDumpProgress(env, job.ID, index, len(spec.Databases), bytesBefore+done)
		},
	})
	if serr != nil {
		// Stop the tool, which would otherwise block on a full pipe, and report why.
		cancel()
		_, _ = io.Copy(io.Discard, d)
		_ = d.Wait()
		return nil, fmt.Errorf("database %s: %w", src.Name, serr)
	}
	if err := d.Wait(); err != nil {
		return nil, fmt.Errorf("database %s: %w", src.Name, err)
	}
	log.Info("database dump completed", "bytes", res.Bytes, "chunks_new", res.ChunksNew,
		"stored_bytes", res.StoredBytes, "duration", r.cfg.Now().Sub(start).Round(time.Millisecond))
	return &protocol.SourceReport{
		Type: protocol.SourceDatabase, Name: src.Name, Root: res.Root, Engine: src.Conn.Engine,
		Format: d.Format, Bytes: res.Bytes, ChunksTotal: res.ChunksTotal,
		ChunksNew: res.ChunksNew, StoredBytes: res.StoredBytes, ToolVersion: d.Tool.Version,
	}, nil
}

// sendDumpProgress reports a dump's progress. A dump's size is not known before it ends,
// so the percentage counts the databases done.
// TODO: estimate each dump from the database's size on disk for a finer percentage.
func sendDumpProgress(env Env, jobID string, index, count int, bytesDone int64) {
	if env.Progress == nil || count == 0 {
		return
	}
	data, err := json.Marshal(protocol.TransferProgress{BytesDone: bytesDone,
		BytesTotal: bytesDone})
	if err != nil {
		return
	}
	pct := 100 * float64(index) / float64(count)
	_ = env.Progress(&protocol.JobProgress{ID: jobID, Percent: pct, Data: data})
}

// restoreDatabases pipes each stored dump into its target database's client.
func (r *Registry) restoreDatabases(ctx context.Context, job *protocol.Job,
	dbs []protocol.DatabaseRestore, codec *blob.Codec, client *remote.Client) (
	[]protocol.DatabaseRestoreReport, error) {
	var out []protocol.DatabaseRestoreReport
	for _, db := range dbs {
		log := r.cfg.Logger.With("component", "jobs", "job_id", job.ID,
			"database", db.Conn.Database)
		log.Info("database restore started", "engine", db.Conn.Engine)
		var n int64
		err := dbdump.Restore(ctx, r.dbConfig(), db, func(w io.Writer) error {
			var err error
			n, err = restore.Stream(ctx, db.Root, codec, client, w)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("restore database %s: %w", db.Conn.Database, err)
		}
		log.Info("database restore completed", "bytes", n)
		out = append(out, protocol.DatabaseRestoreReport{Database: db.Conn.Database, Bytes: n})
	}
	return out, nil
}
