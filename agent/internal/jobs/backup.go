package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grim-reaper/grim/agent/internal/backup"
	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/agent/internal/remote"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// backup runs a backup job: it walks the paths and dumps the databases, sends what the
// store lacks, and reports the snapshots once every blob is flushed.
func (r *Registry) backup(ctx context.Context, job *protocol.Job, env Env) (json.RawMessage, error) {
	var spec protocol.BackupSpec
	if err := json.Unmarshal(job.Payload, &spec); err != nil {
		return nil, fmt.Errorf("backup job: %w", err)
	}
	if spec.Keys == nil {
		return nil, errors.New("backup job: no account keys")
	}
	// A missing dump tool fails the job before anything is sent.
	if err := r.checkDumpTools(spec.Databases); err != nil {
		return nil, err
	}
	codec, err := blob.NewCodec(spec.Keys, spec.Cipher, spec.Compression)
	if err != nil {
		return nil, fmt.Errorf("backup job: %w", err)
	}
	client, err := remote.Open(ctx, env.OpenStream, job.ID, spec.Streams)
	if err != nil {
		return nil, err
	}
	defer client.Close()

	var rep protocol.BackupReport
	var fc *cache.Cache
	if len(spec.Paths) > 0 {
		if fc, err = r.backupPaths(ctx, job, env, &spec, codec, client, &rep); err != nil {
			return nil, err
		}
	}
	for i, src := range spec.Databases {
		sr, err := r.dumpDatabase(ctx, job, env, &spec, codec, client, src, i, rep.Bytes)
		if err != nil {
			return nil, err
		}
		rep.Sources = append(rep.Sources, *sr)
		rep.Bytes += sr.Bytes
		rep.ChunksTotal += sr.ChunksTotal
		rep.ChunksNew += sr.ChunksNew
		rep.StoredBytes += sr.StoredBytes
	}
	if err := client.Flush(ctx); err != nil {
		return nil, err
	}
	// The cache is saved only after the data it points at is durable.
	if fc != nil {
		if err := fc.Save(); err != nil {
			r.cfg.Logger.Warn("save file cache", "error", err)
		}
	}
	return json.Marshal(rep)
}

// backupPaths backs up the job's paths into rep and returns the file cache to save once
// the data is durable.
func (r *Registry) backupPaths(ctx context.Context, job *protocol.Job, env Env,
	spec *protocol.BackupSpec, codec *blob.Codec, client *remote.Client,
	rep *protocol.BackupReport) (*cache.Cache, error) {
	if err := os.MkdirAll(filepath.Join(r.cfg.StateDir, "cache"), 0o700); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	fc, err := cache.Open(r.cachePath(spec.Paths, spec.Excludes), r.cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("open file cache: %w", err)
	}
	res, err := backup.Run(ctx, backup.Options{
		Paths: spec.Paths, Excludes: spec.Excludes, Codec: codec,
		Polynomial: spec.Keys.Polynomial, Store: client, Cache: fc, Logger: r.cfg.Logger,
		Progress: func(p backup.Progress) {
			sendProgress(env, job.ID, protocol.TransferProgress{FilesDone: p.FilesDone,
				FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal})
		},
	})
	if err != nil {
		return nil, err
	}
	*rep = protocol.BackupReport{
		Root: res.Root, Files: res.Files, Dirs: res.Dirs, Bytes: res.Bytes,
		ChunksTotal: res.ChunksTotal, ChunksNew: res.ChunksNew, StoredBytes: res.StoredBytes,
		Warnings: res.Warnings,
		Sources: []protocol.SourceReport{{Type: protocol.SourceFilesystem, Root: res.Root,
			Bytes: res.Bytes, ChunksTotal: res.ChunksTotal, ChunksNew: res.ChunksNew,
			StoredBytes: res.StoredBytes}},
	}
	return fc, nil
}

// cachePath names the file cache of one set of paths and excludes, so different backups
// of one host do not evict each other's entries.
func (r *Registry) cachePath(paths, excludes []string) string {
	sum := sha256.Sum256([]byte(strings.Join(paths, "\x00") + "\x01" +
		strings.Join(excludes, "\x00")))
	return filepath.Join(r.cfg.StateDir, "cache", hex.EncodeToString(sum[:8])+".cache")
}
